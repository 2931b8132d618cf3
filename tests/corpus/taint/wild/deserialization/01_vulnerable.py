# expect: vulnerable deserialization
import pickle
from flask import Flask, request

app = Flask(__name__)


@app.route("/restore", methods=["POST"])
def restore():
    blob = request.files["state"].read()
    state = pickle.loads(blob)
    return {"keys": list(state)}
