"""The prediction API: POST /predict with an `X-API-Key` header, metered per key.

Unknown or missing key: 401. A body that is not `{"features": [numbers]}`
of the model's width: 422 naming the field. POST /flush (any known key) settles the pending
fees now (the app also flushes at shutdown); GET /meter shows queries per
key, pending fees and every settled batch.
"""

from __future__ import annotations

from contextlib import asynccontextmanager

import torch
from fastapi import Depends, FastAPI, Header, HTTPException
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from torch import nn

from fedstake.serve.meter import FeeMeter
from fedstake.serve.model import num_features


class Query(BaseModel):
    features: list[float]


def create_app(model: nn.Module, meter: FeeMeter, keys: dict[str, str]) -> FastAPI:
    """`keys`: API key -> the name its queries are metered under."""
    width = num_features(model)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        meter.flush()  # queries answered are paid for, even below a full batch

    app = FastAPI(title="fedstake serve", lifespan=lifespan, docs_url=None, redoc_url=None)

    @app.exception_handler(RequestValidationError)
    async def bad_body(request, exc: RequestValidationError):
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"][1:]) or "body"
        return JSONResponse(status_code=422, content={"error": f"{where}: {first['msg']}"})

    def client(x_api_key: str | None = Header(default=None)) -> str:
        if x_api_key is None or x_api_key not in keys:
            raise HTTPException(status_code=401, detail="unknown API key (send it in the X-API-Key header)")
        return keys[x_api_key]

    @app.post("/predict")
    def predict(query: Query, name: str = Depends(client)) -> dict:
        if len(query.features) != width:
            return JSONResponse(status_code=422, content={
                "error": f"features: expected {width} numbers, got {len(query.features)}"})
        with torch.no_grad():
            scores = model(torch.tensor([query.features], dtype=torch.float32))[0]
        meter.record(name)
        return {"class": int(scores.argmax()), "scores": [float(s) for s in scores], "price": meter.price}

    @app.post("/flush")
    def flush(_: str = Depends(client)) -> dict:
        done = meter.flush()
        return {"settled": done.amount if done else 0, "queries": done.queries if done else 0,
                "tx_hash": done.tx_hash if done else None}

    @app.get("/meter")
    def usage() -> dict:
        queries, fees = meter.pending
        return {"queries": dict(meter.queries), "pending_queries": queries, "pending_fees": fees,
                "settlements": [vars(s) for s in meter.settlements]}

    return app
