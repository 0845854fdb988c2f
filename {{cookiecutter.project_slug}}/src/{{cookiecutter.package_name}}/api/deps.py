"""Dependencies handed to the route handlers."""

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from ..predictor import Predictor


def get_predictor(request: Request) -> Predictor:
    predictor = getattr(request.app.state, "predictor", None)
    if predictor is None:
        raise HTTPException(status_code=503, detail="the model is not loaded yet")
    return predictor


ModelDep = Annotated[Predictor, Depends(get_predictor)]
