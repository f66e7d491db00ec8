"""One chat turn: its state (``state``), the ports its steps receive (``ports``), the declaration of its steps
(``steps``) and the runner of a Durable activity's steps (``runner``). The orchestrator that sequences the
activities is ``blueprints/orchestration.py``."""
