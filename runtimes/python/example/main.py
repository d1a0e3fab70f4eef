"""Sample function: reads an optional "id" from a JSON body and greets."""


def main(context):
    body = context.req.body if isinstance(context.req.body, dict) else {}
    entry_id = body.get("id", 1)
    context.log(f"Greeting for id {entry_id}")
    return context.res.json({"message": "Hello Open Runtimes 👋", "id": entry_id})
