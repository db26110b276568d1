import pytest
from hypothesis import given
from hypothesis import strategies as st

from fedstake.econ.costs import Prices, bandwidth_cost, energy_cost, true_cost
from fedstake.edge.work import Usage
from fedstake.errors import ConfigError


def usage(*, joules=0.0, nbytes=0, metered=True):
    return Usage(compute_j=joules, radio_j=0.0, bytes_down=nbytes, bytes_up=0, metered=metered)


def test_a_kilowatt_hour_costs_the_energy_price():
    assert energy_cost(3.6e6, price_per_kwh=0.3) == pytest.approx(0.3)


def test_a_gigabyte_costs_the_bandwidth_price():
    assert bandwidth_cost(10**9, price_per_gb=2.0) == pytest.approx(2.0)


def test_a_round_costs_its_energy_plus_its_metered_bytes():
    prices = Prices(energy_per_kwh=0.5, bandwidth_per_gb=4.0)
    spent = Usage(compute_j=1.8e6, radio_j=1.8e6, bytes_down=250_000_000, bytes_up=250_000_000, metered=True)
    assert prices.energy(spent) == pytest.approx(0.5)
    assert prices.bandwidth(spent) == pytest.approx(2.0)
    assert prices.cost(spent) == pytest.approx(2.5)


def test_flat_rate_links_bill_no_bytes():
    assert Prices().cost(usage(nbytes=10**12, metered=False)) == 0.0


@given(st.floats(0, 1e9), st.integers(0, 10**12), st.floats(0, 100), st.floats(0, 100))
def test_cost_is_linear_in_each_price(joules, nbytes, energy_price, bandwidth_price):
    spent = usage(joules=joules, nbytes=nbytes)
    single = Prices(energy_per_kwh=energy_price, bandwidth_per_gb=bandwidth_price).cost(spent)
    double = Prices(energy_per_kwh=2 * energy_price, bandwidth_per_gb=2 * bandwidth_price).cost(spent)
    assert double == pytest.approx(2 * single)


@pytest.mark.parametrize("kwargs, key", [({"energy_per_kwh": -0.1}, "costs.energy-price"),
                                         ({"bandwidth_per_gb": float("nan")}, "costs.bandwidth-price")])
def test_negative_prices_name_their_key(kwargs, key):
    with pytest.raises(ConfigError) as raised:
        Prices(**kwargs)
    assert raised.value.key == key


def test_a_true_cost_is_spending_plus_reservation_in_base_units_rounded_up():
    prices = Prices(energy_per_kwh=0.5, bandwidth_per_gb=4.0)
    assert true_cost(usage(nbytes=250_000_000), prices, reservation=0.5) == 15 * 10**17
    assert true_cost(usage(nbytes=10**9), prices) == 4 * 10**18
    assert true_cost(usage(nbytes=1, metered=False), prices) == 0
    tiny = true_cost(usage(joules=1e-20), prices)
    assert tiny == 1  # far below a base unit, still a cost: rounded up, never to nothing


def test_a_negative_reservation_is_refused():
    with pytest.raises(ConfigError, match="costs.reservation"):
        true_cost(usage(), Prices(), reservation=-1)
