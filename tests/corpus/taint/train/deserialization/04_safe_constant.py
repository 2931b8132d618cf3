# expect: safe deserialization
from fastapi import FastAPI
import yaml

app = FastAPI()


@app.get("/item")
def view(q: str):
    value, limit = q, 10
    value = "report.txt"
    config = yaml.load(value, Loader=yaml.Loader)
