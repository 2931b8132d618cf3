# expect: vulnerable path
from pathlib import Path
from fastapi import FastAPI

app = FastAPI()
ROOT = Path("/var/www/static")


@app.delete("/static/{name}")
def remove(name: str):
    victim = ROOT.joinpath(name)
    victim.unlink()
    return {"deleted": name}
