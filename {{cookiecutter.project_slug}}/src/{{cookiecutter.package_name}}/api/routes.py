"""Route handlers. Built per app, because the request models come from the trained schema."""

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel

from .deps import ModelDep
from .schemas import BatchPrediction, Prediction, batch_model


def build_router(record: type[BaseModel]) -> APIRouter:
    batch = batch_model(record)
    router = APIRouter()

    @router.get("/health")
    async def health(model: ModelDep) -> dict[str, str]:
        """Liveness: 200 once the model is loaded."""
        return {"status": "ok", "model": model.meta["champion"]}

    @router.get("/metadata")
    async def metadata(request: Request, model: ModelDep) -> dict[str, Any]:
        """The model: its family, problem, classes, training date, commit, metrics and schema."""
        meta = model.meta
        return {
            "model": meta["champion"],
            "model_sha256": meta["sha256"],
            "problem_type": meta["problem_type"],
            "target": meta["target"],
            "classes": meta["classes"],
            "threshold": meta["threshold"] if meta["classes"] else None,
            "trained_at": meta["trained_at"],
            "git_commit": meta["git_commit"],
            "cv": meta["cv"],
            "test_metrics": request.app.state.test_metrics,
            "schema": meta["schema"],
        }

    @router.post("/predict", response_model=Prediction)
    async def predict(body: record, model: ModelDep) -> dict[str, Any]:  # type: ignore[valid-type]
        """Predict one record; keys are the table's column names, null means missing."""
        return model.predict_records([body.model_dump(by_alias=True)])[0]

    @router.post("/predict/batch", response_model=BatchPrediction)
    async def predict_batch(
        request: Request,
        body: batch,  # type: ignore[valid-type]
        model: ModelDep,
    ) -> dict[str, Any]:
        """Predict many records at once: {"records": [...]}."""
        limit = request.app.state.settings.max_batch_records
        if len(body.records) > limit:
            raise HTTPException(413, f"records: {len(body.records)} records, the limit is {limit}")
        if not body.records:
            return {"predictions": []}
        rows = [item.model_dump(by_alias=True) for item in body.records]
        return {"predictions": model.predict_records(rows)}

    return router
