from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.views.decorators.http import require_POST
from django.views.generic import FormView, ListView

from accounts.forms import AddressForm
from accounts.models import Address
from accounts.selectors import address_for, addresses_for
from accounts.services import delete_address, save_address, set_default_address
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
