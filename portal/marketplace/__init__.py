"""The direct-payment marketplace's domain: the basket (basket.py), checkout under the account's row lock
(checkout.py), the order state machine and its money moves (orders.py), the timers (cli.py) and the hooks
Stripe's webhooks call (payment_events.py). Routes live in portal/holder/ and portal/provider/orders.py."""
