"""The billing tests' fixtures (a studio with bank details, a signed deal, an invoice, the
stand-in Stripe server on 127.0.0.1) for the payment fault tests."""

from tests.billing.conftest import (  # noqa: F401 - fixtures
    deal,
    empty_task_queue,
    fresh_rate_limits,
    invoice,
    stripe_account,
    stripe_standin,
    studio,
)
