import numpy as np
import pytest
import torch

from fedstake.errors import ConfigError
from fedstake.learn.data import _split, load_dataset


def test_digits_splits_are_disjoint_stratified_and_deterministic():
    a, b = load_dataset("digits", seed=3), load_dataset("digits", seed=3)
    assert len(a.y_train) + len(a.y_val) + len(a.y_test) == 1797
    assert torch.equal(a.x_test, b.x_test) and a.num_features == 64 and a.num_classes == 10
    assert set(a.y_test.tolist()) == set(range(10))
    assert 0.0 <= float(a.x_train.min()) and float(a.x_train.max()) <= 1.0
    train_rows = {tuple(r) for r in a.x_train.tolist()}
    assert sum(tuple(r) in train_rows for r in a.x_test.tolist()) < 5  # digits has a few exact duplicates


def test_digits_are_scikit_learns_rows_read_without_importing_it():
    from sklearn.datasets import load_digits

    a, bunch = load_dataset("digits", seed=3), load_digits()
    x, y = torch.cat([a.x_train, a.x_val, a.x_test]), torch.cat([a.y_train, a.y_val, a.y_test])
    order = torch.from_numpy(np.concatenate(_split(bunch.data, bunch.target, seed=3, test=0.2, val=0.1)))
    assert torch.equal(x, torch.from_numpy((bunch.data / 16.0).astype(np.float32))[order])
    assert torch.equal(y, torch.from_numpy(bunch.target.astype(np.int64))[order])


def test_another_seed_splits_differently():
    assert not torch.equal(load_dataset("digits", seed=1).y_test, load_dataset("digits", seed=2).y_test)


def test_unknown_dataset_names_the_key():
    with pytest.raises(ConfigError, match="task.dataset"):
        load_dataset("mnist", seed=0)


def test_unknown_dataset_option_names_the_key():
    with pytest.raises(ConfigError, match="task.dataset.*no option 'alpha'"):
        load_dataset("digits", seed=0, alpha=1.0)


def test_digits_has_no_users():
    assert load_dataset("digits", seed=0).train_groups is None


@pytest.mark.parametrize("name", ["synthetic", "synthetic-iid"])
def test_synthetic_shapes_users_and_determinism(name):
    a, b = load_dataset(name, seed=5), load_dataset(name, seed=5)
    assert a.num_features == 60 and a.num_classes == 10 and a.name == name
    assert torch.equal(a.x_train, b.x_train) and torch.equal(a.y_test, b.y_test)
    assert a.train_groups.shape == a.y_train.shape and set(a.train_groups.tolist()) == set(range(30))
    assert len(a.y_val) > 0 and len(a.y_test) >= len(a.y_val)
    assert a.x_train.dtype == torch.float32 and a.y_train.dtype == torch.int64
    assert not torch.equal(a.x_train[:50], load_dataset(name, seed=6).x_train[:50])


def test_synthetic_users_hold_lognormal_plus_50_samples_split_90_10():
    data = load_dataset("synthetic", seed=1)
    train_per_user = torch.bincount(data.train_groups)
    assert int(train_per_user.min()) >= int(0.9 * 50)
    held_out = len(data.y_val) + len(data.y_test)
    total = len(data.y_train) + held_out
    assert 0.08 < held_out / total < 0.12


def _label_skew(data):
    """Mean L1 distance between each user's label mix and the pooled one."""
    pooled = torch.bincount(data.y_train, minlength=10) / len(data.y_train)
    per_user = [torch.bincount(data.y_train[data.train_groups == u], minlength=10).float() for u in range(30)]
    return sum(float((p / p.sum() - pooled).abs().sum()) for p in per_user) / 30


def test_synthetic_users_differ_far_more_than_iid_users():
    assert _label_skew(load_dataset("synthetic", seed=2)) > _label_skew(load_dataset("synthetic-iid", seed=2)) + 0.5


def test_beta_spreads_the_users_inputs():
    def spread(beta):
        data = load_dataset("synthetic", seed=4, beta=beta)
        return float(torch.stack([data.x_train[data.train_groups == u].mean() for u in range(30)]).std())

    assert spread(5.0) > 2 * spread(0.0)


def test_alpha_shifts_every_logit_alike_so_labels_do_not_change():
    low, high = load_dataset("synthetic", seed=4, alpha=0.0), load_dataset("synthetic", seed=4, alpha=3.0)
    assert torch.equal(low.x_train, high.x_train)
    assert float((low.y_train == high.y_train).float().mean()) > 0.999


def test_synthetic_iid_inputs_are_centred_with_decaying_variance():
    x = load_dataset("synthetic-iid", seed=3).x_train
    assert float(x.mean(0).abs().max()) < 0.2
    variance = x.var(0)
    assert abs(float(variance[0]) - 1.0) < 0.2 and abs(float(variance[-1]) - 60**-1.2) < 0.01


@pytest.mark.parametrize("option", ["alpha", "beta"])
def test_negative_synthetic_spread_names_the_key(option):
    with pytest.raises(ConfigError, match=f"task.synthetic-{option}"):
        load_dataset("synthetic", seed=0, **{option: -1.0})
