# expect: vulnerable cookie
from fastapi import FastAPI, Response

app = FastAPI()


@app.post("/login")
def login(response: Response):
    response.set_cookie(key="session_id", value="abc123", httponly=True, secure=False)
    return {"ok": True}
