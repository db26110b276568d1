"""fedstake's ClientApp: what a Flower SuperNode runs for every message a node receives.

With `agent` in the SuperNode's node config (what `fedstake trainer` and
`fedstake validator` set), it carries the message's records to that
long-lived agent and its answer back, and imports nothing heavy: the key,
the data and the state stay in the agent. Without it, the node config
holds the node's own settings (see `fedstake.deploy.federation.node`) and
the node answers in this process, loading everything for each message.
"""

from __future__ import annotations

from flwr.app import ConfigRecord, Context, Message, RecordDict
from flwr.clientapp import ClientApp

from fedstake.deploy.federation.agent_link import ask_agent
from fedstake.deploy.federation.courier import ANSWER

app = ClientApp()


def _answer(msg: Message, context: Context) -> Message:
    kind = msg.metadata.message_type
    records = dict(msg.content.config_records)
    agent = context.node_config.get("agent")
    if agent:
        answer = ConfigRecord(ask_agent(str(agent), kind, {name: dict(r) for name, r in records.items()}))
    else:
        from fedstake.deploy.federation.node import open_node

        answer = open_node(context.node_config).handle(kind, records)
    return Message(RecordDict({ANSWER: answer}), reply_to=msg)


@app.train()
def train(msg: Message, context: Context) -> Message:
    return _answer(msg, context)


for _step in ("hello", "claim", "assess", "conclude", "settle", "adopt", "catch_up", "summary"):
    app.query(_step)(_answer)
