# expect: safe path
from pathlib import Path
from fastapi import FastAPI, HTTPException

app = FastAPI()
ROOT = Path("/var/www/static")


@app.delete("/static/{name}")
def remove(name: str):
    victim = (ROOT / name).resolve()
    if not victim.is_relative_to(ROOT):
        raise HTTPException(403)
    victim.unlink()
    return {"deleted": name}
