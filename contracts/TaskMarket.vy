# pragma version ~=0.4.3
# pragma nonreentrancy off
"""
@title TaskMarket
@custom:contract-name TaskMarket
@license MIT
@notice Escrows a requester's budget per task, records each round through
        a validator quorum, settles disputes, and pays trainers with
        cumulative Merkle claims. No single key can pay itself or slash
        anyone: a rewards root needs two thirds of the task's validator
        weight and an unchallenged window; a slash needs an upheld vote.
        Validators and trainers join a task by bonding stake to it, which
        they get back once the task is closed and no dispute against them
        is pending. The owner can pause new tasks; a pause never blocks
        joining, claims, refunds, disputes or anything the stake registry
        does. Once the last round is final or the deadline has passed,
        anyone can close a task; the refund never depends on the model
        NFT's mint or on any validator being left.
        The logic lives in modules (tasks, rounds, claims, disputes);
        this contract composes them and adds the task's end.
"""

from snekmate.auth import ownable as ow
initializes: ow

from snekmate.utils import pausable
initializes: pausable

from snekmate.utils import eip712_domain_separator as eip712
initializes: eip712

from interfaces import IStakeRegistry
from ethereum.ercs import IERC20

from modules import checks
from modules import tasks
from modules import rounds
from modules import claims
from modules import disputes

initializes: tasks
initializes: rounds[tasks := tasks]
initializes: claims[tasks := tasks, rounds := rounds]
initializes: disputes[tasks := tasks, rounds := rounds, claims := claims, eip712 := eip712]

exports: (
    ow.owner,
    ow.transfer_ownership,
    pausable.paused,
    eip712.eip712Domain,
    tasks.token,
    tasks.registry,
    tasks.task_count,
    tasks.task_of,
    tasks.escrow_left,
    tasks.committed,
    tasks.weight,
    tasks.total_weight,
    tasks.validators,
    tasks.asked_bond,
    tasks.reputation_unit,
    tasks.reputation_weight,
    tasks.rounds_done,
    rounds.challenge_window,
    rounds.proposals,
    rounds.attested,
    rounds.quorum_result,
    rounds.final_result,
    rounds.latest_model_hash,
    rounds.rewards_root,
    rounds.provenance,
    claims.reputation,
    claims.forfeited,
    claims.holds,
    claims.claimed,
    claims.counted_rounds,
    disputes.params,
    disputes.dispute_count,
    disputes.dispute_of,
    disputes.tally,
    disputes.dispute_by_key,
    disputes.bonds_held,
    disputes.open_in_task,
)




event TaskClosed:
    task_id: indexed(uint256)
    refund: uint256


@deploy
@payable
def __init__(
    token_: IERC20,
    registry_: IStakeRegistry,
    challenge_window_: uint256,
    dispute_params_: disputes.Params,
    reputation_unit_: uint256,
):
    """
    @param challenge_window_ Seconds after a result's quorum during which it
           can be disputed.
    @param dispute_params_ Bond (at least a tenth of the registry's minimum
           stake), vote period, bounty and slash shares, reputation cut and
           the insurance pool, fixed at deployment.
    @param reputation_unit_ Budget per round at which an accepted round
           earns a whole reputation point (less earns a share of one).
    """
    ow.__init__()
    pausable.__init__()
    eip712.__init__("fedstake", "1")
    tasks.__init__(token_, registry_, reputation_unit_)
    rounds.__init__(challenge_window_)
    disputes.__init__(dispute_params_, staticcall registry_.min_stake())


@external
def create_task(
    budget: uint256,
    num_rounds: uint256,
    cohort_size: uint256,
    min_stake: uint256,
    settle_every: uint256,
    validators: DynArray[address, tasks.MAX_VALIDATORS],
    validator_bonds: DynArray[uint256, tasks.MAX_VALIDATORS],
    seed: bytes32,
    genesis_model_hash: bytes32,
    deadline: uint256,
) -> uint256:
    """
    @notice Pulls `budget` (approve first) into escrow and opens a task.
    @param settle_every 1 = a rewards root every round; k = every k rounds
           (and at the last round).
    @param validator_bonds The stake asked of each validator, in order: its
           weight once it joins.
    @return uint256 The task id, counting from 1.
    """
    pausable._require_not_paused()
    task: tasks.Task = tasks.Task(
        requester=msg.sender,
        budget=budget,
        rounds=num_rounds,
        cohort_size=cohort_size,
        min_stake=min_stake,
        settle_every=settle_every,
        deadline=deadline,
        seed=seed,
        genesis_model_hash=genesis_model_hash,
        closed=False,
    )
    return tasks._create(task, validators, validator_bonds)


@external
def join_task(task_id: uint256, amount: uint256):
    """
    @notice Bonds `amount` of the caller's free stake to the task: a listed
            validator bonds what the requester asked of it and gains that
            weight; a trainer bonds at least the task's minimum and becomes
            eligible for its cohorts.
    """
    tasks._join(task_id, msg.sender, amount)


@external
def release_bond(task_id: uint256, account: address) -> uint256:
    """
    @notice Frees `account`'s bond once the task is closed and none of its
            disputes is pending (so no vote is weighed after a bond left);
            anyone may call it.
    @return uint256 The base units released.
    """
    checks._need(tasks.task_of[task_id].closed, "market: task still open")
    checks._need(disputes.open_in_task[task_id] == 0, "market: dispute pending")
    return extcall tasks.registry.release(account, task_id)


@external
def propose_round(
    task_id: uint256,
    round: uint256,
    model_hash: bytes32,
    updates_root: bytes32,
    rewards_root: bytes32,
    cumulative_total: uint256,
    scores_root: bytes32,
) -> bytes32:
    """
    @notice Proposes (and attests) round `round`'s result.
    @return bytes32 The result hash other validators attest to.
    """
    return rounds._propose(task_id, round, model_hash, updates_root, rewards_root, cumulative_total, scores_root)


@external
def attest_round(task_id: uint256, round: uint256, result_hash: bytes32):
    rounds._attest(task_id, round, result_hash)


@external
def check_quorum(task_id: uint256, round: uint256, result_hash: bytes32) -> bool:
    """
    @notice Starts `result_hash`'s challenge window if it now holds two
            thirds of the task's weight (after a rival was voided or a
            validator slashed); anyone may call it.
    """
    return rounds._reach_quorum(task_id, round, result_hash)


@external
def finalize_round(task_id: uint256, round: uint256):
    """
    @notice Makes the quorum result final once its window has passed with
            no dispute pending; anyone may call it.
    """
    rounds._finalize(task_id, round)


@external
def register():
    """
    @notice Registers the caller as a trainer with one reputation point.
    """
    claims._register()


@external
def claim(
    task_id: uint256,
    cumulative_amount: uint256,
    accepted_rounds: uint256,
    proof: DynArray[bytes32, claims.MAX_PROOF_DEPTH],
) -> uint256:
    """
    @notice Pays what the caller earned in `task_id` since its last claim.
    @return uint256 Base units paid.
    """
    return claims._claim(task_id, cumulative_amount, accepted_rounds, proof)


@external
def reclaim_forfeited(
    task_id: uint256,
    account: address,
    cumulative_amount: uint256,
    accepted_rounds: uint256,
    proof: DynArray[bytes32, claims.MAX_PROOF_DEPTH],
) -> uint256:
    """
    @notice Returns a forfeited trainer's unclaimed rewards to the requester.
    """
    return claims._reclaim_forfeited(task_id, account, cumulative_amount, accepted_rounds, proof)


@external
def challenge_update(
    task_id: uint256,
    round: uint256,
    result_hash: bytes32,
    trainer: address,
    update_hash: bytes32,
    samples: uint256,
    transcript_root: bytes32,
    signature: Bytes[65],
    proof: DynArray[bytes32, claims.MAX_PROOF_DEPTH],
    evidence: bytes32,
) -> uint256:
    """
    @notice Disputes a trainer's signed commitment in the round's quorum
            result (bond pulled from the caller).
    @return uint256 The dispute id.
    """
    return disputes._challenge_update(
        task_id, round, result_hash, trainer, update_hash, samples, transcript_root, signature, proof, evidence
    )


@external
def challenge_scores(
    task_id: uint256,
    round: uint256,
    result_hash: bytes32,
    validator: address,
    scores_hash: bytes32,
    proof: DynArray[bytes32, claims.MAX_PROOF_DEPTH],
    evidence: bytes32,
) -> uint256:
    """
    @notice Disputes the contribution scores a validator reported in the
            round's quorum result (bond pulled from the caller).
    @return uint256 The dispute id.
    """
    return disputes._challenge_scores(task_id, round, result_hash, validator, scores_hash, proof, evidence)


@external
def challenge_result(task_id: uint256, round: uint256, result_hash: bytes32, evidence: bytes32) -> uint256:
    """
    @notice Disputes a proposed round result (bond pulled from the caller).
    @return uint256 The dispute id.
    """
    return disputes._challenge_result(task_id, round, result_hash, evidence)


@external
def vote(dispute_id: uint256, uphold: bool):
    disputes._vote(dispute_id, uphold)


@external
def resolve(dispute_id: uint256) -> bool:
    """
    @notice Settles a dispute once two thirds of the eligible weight upheld
            it, more than a third rejected it, or the vote period ended.
    @return bool True if upheld.
    """
    return disputes._resolve(dispute_id)


@external
def close_task(task_id: uint256) -> uint256:
    """
    @notice Ends the task and refunds the requester the budget no final
            root committed; anyone may call it once every round is final
            or the deadline has passed. The model NFT is minted afterwards
            by the model registry from this record (`mint_model` there), so
            the refund never depends on the mint.
    @return uint256 The base units refunded.
    """
    tasks._require_open(task_id)
    task: tasks.Task = tasks.task_of[task_id]
    done: uint256 = tasks._rounds_done(task_id)
    checks._need(done == task.rounds or block.timestamp > task.deadline, "market: task still running")
    tasks.task_of[task_id].closed = True
    refund: uint256 = min(task.budget - tasks.committed[task_id], tasks._escrow_left(task_id))
    if refund > 0:
        tasks._pay_out(task_id, task.requester, refund)
    log TaskClosed(task_id=task_id, refund=refund)
    return refund


@external
def pause():
    """
    @notice Stops new tasks; nothing else.
    """
    ow._check_owner()
    pausable._pause()


@external
def unpause():
    ow._check_owner()
    pausable._unpause()


@external
@view
def reputations_of(accounts: DynArray[address, 1024]) -> DynArray[uint256, 1024]:
    """
    @notice Reputation of many accounts in one call (cohort selection and rewards).
    """
    out: DynArray[uint256, 1024] = []
    for account: address in accounts:
        out.append(claims.reputation[account])
    return out


@external
@view
def round_seed(task_id: uint256, round: uint256) -> bytes32:
    """
    @notice The seed that picks round `round`'s cohort: the requester's seed,
            the round and the previous final model hash.
    """
    return rounds._round_seed(task_id, round)
