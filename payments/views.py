import json
import logging

import stripe
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django.views.generic import TemplateView

from orders.selectors import is_payable, order_for_viewer, order_lines, payment_window
from payments.exceptions import InvalidPaymentLink, PaymentGatewayError
from payments.gateways import demo_session_id
from payments.models import Gateway, PaymentStatus
from payments.selectors import payment_by_session, returned_payment, success_page_state
from payments.services import (
    confirm_returned_payment,
    handle_stripe_event,
    pay_demo_session,
    start_payment,
)
from shop.exceptions import ShopError

logger = logging.getLogger(__name__)


@require_POST
def start_payment_view(request, number: str):
    """Sends the buyer (or the guest whose session placed or opened the order) to the gateway's checkout page for
    their pending order (reusing an open session).

    POST only, so the CSRF check applies and no link, prefetch or crawler opens a session: the order page's Pay
    button posts here, and placing an order answers with a 307 that the browser follows by posting the checkout form
    (and its CSRF token) here again.
    """
    order = order_for_viewer(user=request.user, session=request.session, number=number)
    if order is None:
        if not request.user.is_authenticated:
            return redirect_to_login(reverse("orders:detail", kwargs={"number": number}))
        raise Http404("No such order.")
    try:
        payment = start_payment(order=order, site_url=request.build_absolute_uri("/"))
    except ShopError as err:  # a gateway failure is logged where it happens; the shopper gets its generic text
        messages.error(request, str(err))
        return redirect(order)
    return redirect(payment.checkout_url)


@csrf_exempt
@require_POST
def stripe_webhook_view(request):
    """Stripe's signed events: 400 on a bad signature or body, else 200 once recorded (replays included)."""
    header = request.headers.get("Stripe-Signature", "")
    try:
        stripe.Webhook.construct_event(request.body, header, settings.STRIPE_WEBHOOK_SECRET)
        event = json.loads(request.body)
        event_id, event_type = event["id"], event["type"]
    except stripe.SignatureVerificationError:
        logger.warning("Stripe webhook with a bad or missing signature refused")
        return HttpResponseBadRequest("bad signature")
    except (ValueError, KeyError, TypeError):
        return HttpResponseBadRequest("bad payload")
    outcome = handle_stripe_event(event=event)
    logger.info("Stripe event %s (%s): %s", event_id, event_type, outcome)
    return HttpResponse(outcome, content_type="text/plain")


class CheckoutSuccessView(TemplateView):
    """Where the gateway sends the shopper back: the session is looked up on the server, never trusted from the URL.

    Only the order's buyer (or the guest session that placed or opened it) sees the order, and only for them is the
    gateway asked (once per visit, and only while the attempt is still unfinished). Anyone else, with an unknown
    reference or someone else's, gets the same neutral page.
    """

    template_name = "payments/checkout_success.html"

    def get_context_data(self, **kwargs):
        payment = returned_payment(
            session_id=self.request.GET.get("session_id", ""), user=self.request.user, session=self.request.session
        )
        if payment is None:
            return super().get_context_data(order=None, **kwargs)
        try:
            outcome = confirm_returned_payment(payment=payment)
        except PaymentGatewayError:
            outcome = "unreachable"
        order = payment.order
        order.refresh_from_db()
        return super().get_context_data(
            order=order, state=success_page_state(payment=payment, order=order), outcome=outcome, **kwargs
        )


class DemoPaymentView(View):
    """The demo gateway's hosted page. Its URL is a signed, expiring capability: no browser session needed."""

    template_name = "payments/demo_checkout.html"

    def _payment(self, token: str):
        session_id = demo_session_id(token=token, max_age_seconds=int(payment_window().total_seconds()))
        payment = payment_by_session(session_id=session_id)
        if payment is None or payment.gateway != Gateway.DEMO:
            raise InvalidPaymentLink()
        return payment

    def _invalid(self, request, err: ShopError):
        return render(request, "payments/demo_invalid.html", {"message": str(err)}, status=404)

    def get(self, request, token: str):
        try:
            payment = self._payment(token)
        except InvalidPaymentLink as err:
            return self._invalid(request, err)
        order = payment.order
        return render(
            request,
            self.template_name,
            {
                "payment": payment,
                "order": order,
                "lines": order_lines(order=order),
                "can_pay": payment.status == PaymentStatus.OPEN and is_payable(order=order),
                "success_url": f"{reverse('payments:success')}?session_id={payment.session_id}",
                "cancel_url": f"{order.get_absolute_url()}?payment=cancelled",
            },
        )

    def post(self, request, token: str):
        try:
            payment = self._payment(token)
            pay_demo_session(session_id=payment.session_id)
        except InvalidPaymentLink as err:
            return self._invalid(request, err)
        except ShopError as err:
            messages.error(request, str(err))
            return redirect(request.path)
        return redirect(f"{reverse('payments:success')}?session_id={payment.session_id}")
