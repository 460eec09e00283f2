"""Forms of the payments app: staff's partial refund of an order in the admin."""

from dataclasses import dataclass

from django import forms

from orders.models import Order, OrderLine
from shop.money import format_money, parse_major


@dataclass
class RefundLineRow:
    """One order line on the refund page: the line, its quantity field, how many units are left to refund, and
    roughly what one unit gives back (the service decides the exact share; a line's last unit takes what is left)."""

    line: OrderLine
    field: forms.BoundField
    left: int
    about_each: str


class RefundForm(forms.Form):
    """Units to refund per order line, or an amount; the units back in stock or not; a note. It only checks the input
    (whole numbers within what is left, an amount in major units, lines or an amount): the view passes the result to
    `payments.services.refund_payment`, which works out the money and refuses what cannot be refunded."""

    amount = forms.CharField(
        label="Or an amount",
        required=False,
        max_length=20,
        help_text="In major units, e.g. 12.50; for a goodwill refund, not tied to any line.",
    )
    restock = forms.BooleanField(
        label="Put the units back in stock",
        required=False,
        help_text="The goods came back unharmed: the refunded units are sold again (recorded in the stock ledger).",
    )
    note = forms.CharField(label="Note", required=False, max_length=200, help_text="Why, for the order's record.")

    def __init__(self, *args, order: Order, lines: list[OrderLine], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.order = order
        self.lines = lines
        for line in lines:
            left = line.quantity - line.refunded_quantity
            self.fields[self.field_name(line)] = forms.IntegerField(
                label=f"Units of {line.title} to refund",
                required=False,
                min_value=0,
                max_value=left,
                initial=0,
                disabled=not left,
                error_messages={
                    "invalid": "Enter a whole number of units.",
                    "min_value": "Enter 0 or more units.",
                    "max_value": "Only %(limit_value)s left to refund.",
                },
            )
            self.fields[self.field_name(line)].widget.attrs["class"] = "vIntegerField"
        self.fields["amount"].widget.attrs.update(inputmode="decimal", autocomplete="off", placeholder="0.00")

    @staticmethod
    def field_name(line: OrderLine) -> str:
        return f"line_{line.pk}"

    @property
    def line_rows(self) -> list[RefundLineRow]:
        rows = []
        for line in self.lines:
            line.order = self.order  # `paid_minor` reads the order's tax mode; no query for it
            rows.append(
                RefundLineRow(
                    line=line,
                    field=self[self.field_name(line)],
                    left=line.quantity - line.refunded_quantity,
                    about_each=format_money(line.refund_per_unit_minor, self.order.currency),
                )
            )
        return rows

    def clean_amount(self) -> int | None:
        text = self.cleaned_data["amount"].strip()
        if not text:
            return None
        minor = parse_major(text, self.order.currency)
        if minor is None:
            raise forms.ValidationError(
                "Enter an amount in major units, such as 12.50 (digits and one decimal point, no sign).",
                code="invalid_amount",
            )
        return minor

    def clean(self) -> dict:
        cleaned = super().clean()
        lines = [(line.pk, cleaned.get(self.field_name(line)) or 0) for line in self.lines]
        cleaned["lines"] = [(pk, quantity) for pk, quantity in lines if quantity]
        if self.errors:
            return cleaned
        if cleaned["lines"] and cleaned.get("amount") is not None:
            raise forms.ValidationError("Refund chosen units or an amount, not both.", code="lines_and_amount")
        if not cleaned["lines"] and cleaned.get("amount") is None:
            raise forms.ValidationError("Choose the units to refund, or enter an amount.", code="nothing_asked")
        return cleaned
