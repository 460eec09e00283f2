import json

from allauth.account import views as allauth_views
from allauth.account.models import EmailAddress
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_GET, require_POST
from django.views.generic import FormView, ListView, TemplateView

from accounts.forms import AddressForm, DeleteAccountForm
from accounts.models import Address
from accounts.selectors import address_for, addresses_for, export_personal_data
from accounts.services import delete_address, erase_personal_data, save_address, set_default_address
from shop.exceptions import ShopError

ADDRESS_LIST = "accounts:address_list"


def _own_address(request, address_id: str) -> Address:
    """The signed-in user's address behind the URL; another user's gets the same 404 as no address at all."""
    address = address_for(user=request.user, address_id=address_id)
    if address is None:
        raise Http404("No such address.")
    return address


class AddressListView(LoginRequiredMixin, ListView):
    """The address book: the default address first, each with its actions."""

    template_name = "account/address_list.html"
    context_object_name = "addresses"

    def get_queryset(self):
        return addresses_for(user=self.request.user)


class AddressCreateView(LoginRequiredMixin, FormView):
    form_class = AddressForm
    template_name = "account/address_form.html"
    extra_context = {"title": "Add an address"}
    address = None
    success_message = "The address is saved."

    def get_initial(self):
        return {"name": self.request.user.get_full_name()}

    def form_valid(self, form):
        try:
            save_address(user=self.request.user, address=self.address, **form.cleaned_data)
        except ValidationError as err:
            form.add_error(None, err)  # the model's rules, field by field
            return self.form_invalid(form)
        except ShopError as err:
            form.add_error(None, str(err))
            return self.form_invalid(form)
        messages.success(self.request, self.success_message)
        return redirect(ADDRESS_LIST)


class AddressUpdateView(AddressCreateView):
    extra_context = {"title": "Edit address"}
    success_message = "The address is updated."

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.address = _own_address(request, kwargs["address_id"])
        return super().dispatch(request, *args, **kwargs)

    def get_initial(self):
        fields = ("name", "line1", "line2", "postal_code", "city", "country", "is_default")
        return {name: getattr(self.address, name) for name in fields}

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "is_default_address": self.address.is_default}

    def get_context_data(self, **kwargs):
        return super().get_context_data(address=self.address, **kwargs)


@login_required
@require_POST
def address_delete_view(request, address_id: str):
    """Deletes one of the shopper's addresses; when it was the default, the newest remaining one takes over."""
    address = _own_address(request, address_id)
    try:
        delete_address(user=request.user, address_id=address.pk)
    except ShopError as err:
        messages.error(request, str(err))
    else:
        messages.success(request, f"The address {address.name}, {address.line1} is deleted.")
    return redirect(ADDRESS_LIST)


@login_required
@require_POST
def address_default_view(request, address_id: str):
    """Makes one of the shopper's addresses the default, the one checkout offers first."""
    address = _own_address(request, address_id)
    try:
        set_default_address(user=request.user, address_id=address.pk)
    except ShopError as err:
        messages.error(request, str(err))
    else:
        messages.success(request, f"{address.name}, {address.line1} is now your default address.")
    return redirect(ADDRESS_LIST)


def personal_data_response(*, data: dict, filename_stem: str = "personal-data") -> HttpResponse:
    """A GDPR export as a JSON file download, never stored by a cache."""
    body = json.dumps(data, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    filename = f"{filename_stem}-{timezone.now():%Y-%m-%d}.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    patch_cache_control(response, private=True, no_store=True)
    return response


class PersonalDataView(LoginRequiredMixin, TemplateView):
    """The "Your data" page: download everything the shop holds about you, or delete your account."""

    template_name = "account/personal_data.html"


@login_required
@require_GET
def personal_data_export_view(request):
    """The signed-in shopper's data as a JSON file (`accounts.selectors.export_personal_data`)."""
    return personal_data_response(data=export_personal_data(user=request.user))


class AccountDeleteView(LoginRequiredMixin, FormView):
    """Deletes the signed-in shopper's account once they confirm with their password: their personal data is erased
    or anonymised (`accounts.services.erase_personal_data`), their orders kept for the accounts, and they are signed
    out everywhere."""

    form_class = DeleteAccountForm
    template_name = "account/account_delete.html"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def form_valid(self, form):
        try:
            erase_personal_data(user=self.request.user, actor=self.request.user)
        except ShopError as err:
            form.add_error(None, str(err))
            return self.form_invalid(form)
        logout(self.request)
        messages.success(self.request, "Your account is deleted and your personal data erased.")
        return redirect("catalog:home")


class EmailView(allauth_views.EmailView):
    """allauth's email page (ACCOUNT_CHANGE_EMAIL: "change to"), with two differences. An address waiting for
    confirmation cannot be made the primary one by a crafted POST (allauth allows it while the user has no verified
    address, which optional verification leaves common); it takes over only through its link. And the page shows
    the user's email as the current one even while it is unverified, the pending address as the one changing to."""

    def _action_primary(self, request, *args, **kwargs):
        email_address = self._get_email_address(request)
        if email_address is not None and not email_address.verified:
            messages.error(request, "This address becomes your email once you open the link we mailed to it.")
            return HttpResponseRedirect(self.get_success_url())
        return super()._action_primary(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        rows = EmailAddress.objects.filter(user_id=user.pk)
        context["current_emailaddress"] = rows.filter(email=user.email).first() or EmailAddress(email=user.email)
        context["new_emailaddress"] = rows.filter(verified=False).exclude(email=user.email).order_by("pk").last()
        return context
