"""The clients that call the hub, each on the run's transport (``http``).

The suite's own, one call per documented operation (``client.py``); schemathesis's sender, with the operations it
fuzzes and the checks it runs (``fuzzing.py``); and the OpenAI SDK's, with where its types and the hub's answers
disagree (``openai_compat.py``).
"""
