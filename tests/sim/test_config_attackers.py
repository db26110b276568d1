"""`[attackers]`: a share of the trainers attacking with one kind or a mix, written out as trainer groups."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fedstake.errors import ConfigError
from fedstake.sim.config import load_scenario, parse_scenario

KINDS = ["sign-flip", "scaling", "alie", "label-flip", "ipm", "gaussian", "free-rider-zero"]


def groups(scenario):
    return [(g.count, g.behaviour) for g in scenario.trainers]


def test_a_mix_of_three_splits_the_attackers_evenly_after_the_honest():
    scenario = parse_scenario({"attackers": {"share": 0.3, "kinds": "ipm+gaussian+free-rider-zero"}})
    assert groups(scenario) == [(14, "honest"), (2, "ipm"), (2, "gaussian"), (2, "free-rider-zero")]


def test_a_sweep_varies_the_share_and_the_mix_as_overrides():
    scenario = load_scenario(None, ["attackers.share=0.1", "attackers.kinds=sign-flip+scaling"])
    assert groups(scenario) == [(18, "honest"), (1, "sign-flip"), (1, "scaling")]


def test_attackers_come_from_the_last_honest_groups_with_its_stake():
    scenario = parse_scenario({"task": {"clients-per-round": 8}, "attackers": {"share": 0.5, "kinds": "alie"},
                               "trainers": [{"count": 5}, {"count": 3, "stake": 300}]})
    assert [(g.count, g.behaviour, g.stake) for g in scenario.trainers] == [(4, "honest", 100), (4, "alie", 300)]


def test_a_share_of_zero_is_the_clean_scenario():
    assert groups(parse_scenario({"attackers": {"share": 0, "kinds": "alie"}})) == [(20, "honest")]


@pytest.mark.parametrize(("section", "trainers", "key", "problem"), [
    ({"share": 0.3}, None, "attackers.kinds", "required"),
    ({"share": 0.3, "kinds": "honest"}, None, "attackers.kinds", "not an attack"),
    ({"share": 0.3, "kinds": "alie+alie"}, None, "attackers.kinds", "names a kind twice"),
    ({"share": 0.3, "kinds": "sign-flip+typo"}, None, "attackers.kinds", "'typo' is not an attack"),
    ({"share": 0.01, "kinds": "alie"}, None, "attackers.share", "rounds to no attacker"),
    ({"share": 1.0, "kinds": "alie"}, None, "attackers.share", "less than 1"),
    ({"share": 0.95, "kinds": "alie"}, [{"count": 10}], "attackers.share", "leaves no honest trainer"),
    ({"share": 0.3, "kinds": "alie", "shares": 1}, None, "attackers.shares", "unknown key"),
    ({"share": 0.3, "kinds": "alie"}, [{"count": 18}, {"count": 2, "behaviour": "ipm"}], "trainers.1.behaviour",
     "every .*trainers.* group is honest"),
])
def test_bad_attackers_are_refused_naming_the_key(section, trainers, key, problem):
    raw = {"task": {"clients-per-round": 5}, "attackers": section, **({"trainers": trainers} if trainers else {})}
    with pytest.raises(ConfigError, match=problem) as caught:
        parse_scenario(raw)
    assert caught.value.key == key


@given(total=st.integers(2, 60), share=st.floats(0.01, 0.99), kinds=st.lists(st.sampled_from(KINDS), min_size=1,
                                                                               max_size=3, unique=True))
def test_the_groups_hold_every_trainer_and_round_the_share(total, share, kinds):
    raw = {"task": {"clients-per-round": 1}, "trainers": [{"count": total}],
           "attackers": {"share": share, "kinds": "+".join(kinds)}}
    attackers = round(share * total)
    if attackers == 0 or attackers >= total:
        with pytest.raises(ConfigError):
            parse_scenario(raw)
        return
    scenario = parse_scenario(raw)
    assert scenario.trainer_count == total
    assert scenario.trainers[0].behaviour == "honest" and scenario.trainers[0].count == total - attackers
    counts = [g.count for g in scenario.trainers[1:]]
    assert sum(counts) == attackers and max(counts) - min(counts) <= 1
    assert [g.behaviour for g in scenario.trainers[1:]] == kinds[:len(counts)]
