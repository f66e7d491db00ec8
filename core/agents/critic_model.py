"""The critic's learned screen: does a customer message try to subvert the desk, reach another customer's data, get
help with fraud, or ask for harmful content?

Rules catch literal phrasings only; attacks come in role-play, fictional or "for audit purposes" framings, template
and code strings, and every language. This classifier is trained on labelled messages written by independent
authors (``knowledge/guardrails/*.jsonl``: ``text``, ``blocked``, ``category``, ``lang``; blocked and ordinary
look-alikes in en / fr-CA / es) plus every customer utterance of the intent data and every message of the
escalation data (``knowledge/escalation``: complaints, threats of a review or a lawyer, insults, injury reports,
dead devices) as ordinary messages: an angry customer is not an attack, and is handed to a person rather than
refused. Features are the intent agent's: multilingual-e5-small sentence embeddings (shared, so the message is
embedded once per turn) and character n-grams, into a logistic regression over the screen's reasons. It is trained
by ``make setup`` (``python -m core.agents.critic_model train``) and kept under DATA_DIR by a fingerprint of its
data and of the embedding engine (``make package`` ships it in the app's artifacts).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from core.agents import question_type
from core.agents.intent import SentenceEmbeddings, embedding_engine_id, wants_human
from core.agents.model_cache import TrainedModel, class_probabilities, data_fingerprint, ship
from core.config import REPO_ROOT
from core.text import fold
from core.utterances import INTENTS_DIR, load_examples

GUARDRAILS_DIR = REPO_ROOT / "knowledge" / "guardrails"
ESCALATION_DIR = REPO_ROOT / "knowledge" / "escalation"
MODEL_VERSION = "critic-e5+chars-5"
ORDINARY = "ordinary"
#: The data's categories → the screen's reasons (the reply the customer gets is chosen by reason).
REASONS = {
    "injection": "prompt_injection", "role_play": "prompt_injection", "framing": "prompt_injection",
    "system_prompt": "prompt_injection", "template_code": "prompt_injection",
    "other_customer_data": "data_extraction", "fraud": "fraud_assistance", "harmful": "harmful_request",
    "benign": ORDINARY, "benign_lookalike": ORDINARY,
}
#: Blocked when the ordinary class is less likely than this (make eval-guardrails shows the trade-off: a higher
#: bar blocks more attacks and more ordinary look-alikes).
BLOCK_BELOW = 0.42


def load_rows(folder: Path = GUARDRAILS_DIR, pattern: str = "*.jsonl") -> list[dict]:
    rows = []
    for path in sorted(folder.glob(pattern)):
        rows += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return rows


#: Customers identify themselves with their own details; attacks ask for someone else's. So that a message full of
#: the customer's own name, e-mail, phone, address or card ending is not taken for an attack, one ordinary
#: utterance in four is also trained on with such a self-introduction around it.
_SELF = {
    "en": ["Hi, I'm {name} ({email}, {phone}). {text}", "{text} My email is {email} and my address is {address}.",
           "{text} Order #{order}, card ending {last4}. Thanks, {name}", "This is {name}, phone {phone}: {text}"],
    "fr-CA": ["Bonjour, c'est {name} ({email}, {phone}). {text}", "{text} Mon courriel c'est {email}, mon adresse "
              "{address}.", "{text} Commande #{order}, carte finissant par {last4}. Merci, {name}",
              "Ici {name}, tél. {phone} : {text}"],
    "es": ["Hola, soy {name} ({email}, {phone}). {text}", "{text} Mi correo es {email} y mi dirección es {address}.",
           "{text} Pedido #{order}, tarjeta terminada en {last4}. Gracias, {name}",
           "Soy {name}, teléfono {phone}: {text}"],
}
_CITIES = ["Toronto", "Montréal", "Madrid", "Austin", "Québec", "Guadalajara"]
_STREETS = ["Maple Avenue", "rue Saint-Denis", "Calle Mayor", "King St W", "boul. René-Lévesque", "Avenida Juárez"]


def _words(path: Path) -> list[str]:
    return [w for line in path.read_text(encoding="utf-8").splitlines() if not line.startswith("#")
            for w in line.split()]


def _with_own_details(rows: list[dict]) -> list[str]:
    import random

    data = REPO_ROOT / "core" / "pii" / "data"
    first, last = _words(data / "first_names.txt"), _words(data / "surnames.txt")
    pick = random.Random(20261121)
    out = []
    for row in rows[::4]:
        given, family = pick.choice(first).capitalize(), pick.choice(last).capitalize()
        template = pick.choice(_SELF.get(row.get("lang", "en"), _SELF["en"]))
        out.append(template.format(
            text=row["text"], name=f"{given} {family}", email=f"{given}.{family}@example.com".lower(),
            phone=f"{pick.randint(200, 999)}-555-{pick.randint(0, 9999):04d}", order=pick.randint(1000, 99999),
            last4=f"{pick.randint(0, 9999):04d}", address=f"{pick.randint(1, 9999)} {pick.choice(_STREETS)}, "
                                                          f"{pick.choice(_CITIES)}"))
    return out


def _bare_details(count: int) -> list[str]:
    """Answers to "what is your e-mail / order number?": the details alone, as customers send them."""
    import random

    pick = random.Random(20261206)
    domains = ["gmail.com", "outlook.com", "yahoo.ca", "hotmail.es", "example.com", "icloud.com", "shop.example"]
    out = []
    for _ in range(count):
        user = "".join(pick.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(pick.randint(3, 9)))
        sep = pick.choice([".", "_", ""])
        email = f"{user}{sep}{pick.randint(1, 99) if pick.random() < 0.4 else ''}@{pick.choice(domains)}"
        detail = pick.choice([email, email.upper(), f"#{pick.randint(1000, 99999)}", f"{pick.randint(1000, 99999)}",
                              f"#{pick.randint(1000, 99999)} {email}", f"{pick.randint(200, 999)}-555-"
                              f"{pick.randint(0, 9999):04d}", f"{email} #{pick.randint(1000, 99999)}"])
        out.append(pick.choice(_LEAD_INS).format(detail) if pick.random() < 0.5 else detail)
    return out


#: How customers hand over a detail they were asked for ("It's …", "C'est …", "Es …", "sorry, it's …").
_LEAD_INS = ["It's {}", "it is {}", "my email is {}", "sorry, it's {}", "oops, it's actually {}", "here: {}",
             "C'est {}", "c'est plutôt {}", "mon courriel c'est {}", "désolé, c'est {}", "voici : {}",
             "Es {}", "mi correo es {}", "perdón, es {}", "ah no, es {}", "aquí está: {}"]


def training_set(guardrail_rows: list[dict]) -> tuple[list[str], list[str]]:
    texts = [r["text"] for r in guardrail_rows]
    labels = [REASONS[r["category"]] for r in guardrail_rows]
    utterances = load_examples("train")
    customers = load_rows(ESCALATION_DIR)
    ordinary = ([r["text"] for r in utterances + customers] + _with_own_details(utterances) + _bare_details(300))
    return texts + ordinary, labels + [ORDINARY] * len(ordinary)


def train(texts: list[str], labels: list[str]):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, make_pipeline

    features = FeatureUnion([
        ("e5", SentenceEmbeddings(weight=2.0)),
        ("chars", TfidfVectorizer(preprocessor=fold, analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True,
                                  min_df=2)),
    ])
    pipeline = make_pipeline(features, LogisticRegression(C=4.0, max_iter=3000, class_weight="balanced"))
    pipeline.fit(texts, labels)
    return pipeline


def _fingerprint() -> str:
    folders = (GUARDRAILS_DIR, INTENTS_DIR, ESCALATION_DIR)
    return data_fingerprint(f"{MODEL_VERSION}\x00{embedding_engine_id()}",
                            [p for folder in folders for p in sorted(folder.rglob("*.jsonl"))])


def model_file() -> str:
    """The trained model's file name (shipped in the package's artifacts, or kept in DATA_DIR)."""
    return f"critic-model-{_fingerprint()}.joblib"


_MODEL = TrainedModel(model_file, lambda: train(*training_set(load_rows())))


def get_model():
    return _MODEL.get()


def probabilities(text: str, model=None) -> dict[str, float]:
    return class_probabilities(model or get_model(), text)


def screen(text: str, model=None) -> str | None:
    """The reason to refuse ``text`` (prompt_injection, data_extraction, fraud_assistance, harmful_request), or
    None for an ordinary message."""
    scores = probabilities(text, model)
    if scores.get(ORDINARY, 1.0) >= BLOCK_BELOW:
        return None
    parts = question_type.message_parts(text) if wants_human(text) else []
    if parts and all(probabilities(part, model).get(ORDINARY, 1.0) >= BLOCK_BELOW for part in parts):
        # A message asking for a person goes to one, whom no instruction subverts: it is refused only when one of
        # its sentences reads as an attack on its own ("I want a real person, not a bot." then "It's for our lodge:
        # a dozen rod sets" is two ordinary sentences, whatever their whole looks like).
        return None
    return max((label for label in scores if label != ORDINARY), key=scores.__getitem__)


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    if args[:1] != ["train"]:
        print("usage: python -m core.agents.critic_model train", file=sys.stderr)
        return 2
    get_model()
    shipped = ship(model_file())
    print(f"critic model ready: {shipped.relative_to(shipped.parent.parent)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
