# expect: vulnerable deserialization
from fastapi import FastAPI
import yaml

app = FastAPI()


@app.get("/item")
def view(q: str):
    value, limit = q, 10
    config = yaml.load(value, Loader=yaml.Loader)
