"""The routes that say how the service is: the web page, liveness, readiness, metadata, and
the recent activity."""

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse

from ..monitoring.activity import Activity, today
from .deps import ModelDep
from .responses import errors

STATIC = Path(__file__).parent / "static"


def add_status_routes(router: APIRouter, auth: list[Any], locked: tuple[int, ...]) -> None:
    """/, /health, /ready, /metadata and /activity (the last two behind the API key when one
    is set)."""

    @router.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    @router.get("/health")
    async def health() -> dict[str, str]:
        """Liveness: 200 whenever the process answers, loaded model or not."""
        return {"status": "ok"}

    @router.get("/ready", responses=errors(503))
    async def ready(request: Request) -> Any:
        """Readiness: 200 once the model is loaded and its SHA-256 verified, else 503."""
        model = request.app.state.predictor
        if model is None:
            detail = request.app.state.load_error or "the model is not loaded yet"
            return JSONResponse({"detail": detail}, status_code=503)
        return {"status": "ready", "model_version": model.version, "runtime": model.runtime}

    @router.get("/metadata", dependencies=auth, responses=errors(*locked, 503))
    async def metadata(request: Request, model: ModelDep) -> dict[str, Any]:
        """The model: name, version, training date, commit, metrics and the feature schema."""
        meta, state = model.meta, request.app.state
        registry = state.registry or {}
        return {
            "name": meta.project.name,
            "registered_model": registry.get("model"),
            "registered_version": registry.get("version"),
            "model": meta.champion,
            "model_version": model.version,
            "runtime": model.runtime,
            "problem_type": meta.problem_type,
            "target": meta.target,
            "classes": meta.classes,
            "threshold": meta.threshold if meta.classes else None,
            "trained_at": meta.trained_at,
            "git_commit": meta.git_commit,
            "cv": {name: score.model_dump() for name, score in meta.cv.items()},
            "test_metrics": state.test_metrics,
            "parity": model.manifest.parity if model.manifest else None,
            "schema": meta.table_schema.model_dump(),
            "example": meta.example,
        }

    @router.get("/activity", dependencies=auth, responses=errors(*locked))
    async def activity(request: Request) -> Activity:
        """Predictions since midnight UTC, per class (or their spread), and the last monitor
        run's verdict: counts only, no record."""
        state = request.app.state
        model, writer = state.predictor, state.prediction_log
        classes = model.class_names if model is not None and model.classes is not None else None
        log = writer.path if writer is not None else None
        return await state.workers.run(today, log, classes, state.settings.monitor_summary)
