"""PII detection: every category in en / fr-CA / es, validators, the customer's known entities, structured fields."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from core.pii import KnownEntities, Label, detect, pii_field
from core.pii.checksums import iban_ok, luhn_ok
from core.pii.structured import marked_values


def found(text: str, lang: str | None = None, known: KnownEntities | None = None) -> dict[str, str]:
    return {text[s.start:s.end]: s.label for s in detect(text, lang, known)}


@pytest.mark.parametrize("text,lang,value,label", [
    ("write me at jane.doe+shop@example.co.uk please", "en", "jane.doe+shop@example.co.uk", Label.EMAIL),
    ("mon courriel : h.mcdermott at gmail dot com", "fr", "h.mcdermott at gmail dot com", Label.EMAIL),
    ("Call (415) 555-0187 after 5", "en", "(415) 555-0187", Label.PHONE),
    ("Appelez au 514 555-0143 poste 22", "fr", "514 555-0143 poste 22", Label.PHONE),
    ("Mi móvil es 612 34 56 78", "es", "612 34 56 78", Label.PHONE),
    ("Portable : +33 6 71 82 93 04", "fr", "+33 6 71 82 93 04", Label.PHONE),
    ("card 4111 1111 1111 1111 declined", "en", "4111 1111 1111 1111", Label.CARD),
    ("IBAN ES91 2100 0418 4502 0005 1332 y pagué", "es", "ES91 2100 0418 4502 0005 1332", Label.IBAN),
    ("login from 185.220.101.47 today", "en", "185.220.101.47", Label.IP_ADDRESS),
    ("IPv6 2001:db8:85a3::8a2e:370:7334 blocked", "en", "2001:db8:85a3::8a2e:370:7334", Label.IP_ADDRESS),
    ("UPS 1Z84X5E20395837421 stuck", "en", "1Z84X5E20395837421", Label.TRACKING_NUMBER),
    ("USPS 9400 1000 0000 0000 0000 00 delivered", "en", "9400 1000 0000 0000 0000 00", Label.TRACKING_NUMBER),
    ("suivi 7023 4410 9982 1375 livré", "fr", "7023 4410 9982 1375", Label.TRACKING_NUMBER),
    ("Postes Canada RN 123 456 785 CA", "fr", "RN 123 456 785 CA", Label.TRACKING_NUMBER),
    ("DHL Express waybill 1234567890 delayed", "en", "1234567890", Label.TRACKING_NUMBER),
    ("FedEx tracking 771234567890 exception", "en", "771234567890", Label.TRACKING_NUMBER),
    ("MAC A4:5E:60:C2:11:9F blocked", "en", "A4:5E:60:C2:11:9F", Label.DEVICE_ID),
    ("l'IMEI est 356938035643809", "fr", "356938035643809", Label.DEVICE_ID),
    ("I was charged $64.98 twice", "en", "$64.98", Label.AMOUNT),
    ("on m'a facturé 64,98 $ de plus", "fr", "64,98 $", Label.AMOUNT),
    ("me cobraron 1.250,00 € ayer", "es", "1.250,00 €", Label.AMOUNT),
    ("refund the twenty five dollars", "en", "twenty five dollars", Label.AMOUNT),
    ("ticket ZD-771045 closed", "en", "ZD-771045", Label.TICKET_ID),
    ("le dossier CS-2026-00418 est ouvert", "fr", "CS-2026-00418", Label.TICKET_ID),
    ("mi número de cliente es CL-448120", "es", "CL-448120", Label.CUSTOMER_ID),
    ("commande no 1016 en retard", "fr", "1016", Label.ORDER_NUMBER),
    ("pedido #4471 roto", "es", "#4471", Label.ORDER_NUMBER),
    ("code postal H2G 1M9", "fr", "H2G 1M9", Label.POSTAL_CODE),
    ("zip code 94110-2217", "en", "94110-2217", Label.POSTAL_CODE),
])
def test_each_category_is_found_with_its_label(text, lang, value, label):
    assert found(text, lang).get(value) == label


@pytest.mark.parametrize("text,lang,address", [
    ("I live at 742 Evergreen Terrace Apt 4B, Springfield, IL 62704. Thanks", "en",
     "742 Evergreen Terrace Apt 4B, Springfield, IL 62704"),
    ("Ship to 55 Queen St W, Toronto, ON M5H 2M9", "en", "55 Queen St W, Toronto, ON M5H 2M9"),
    ("j'habite au 2217, rue Beaubien Est, app. 3, Montréal (Québec) H2G 1M9. Merci", "fr",
     "2217, rue Beaubien Est, app. 3, Montréal (Québec) H2G 1M9"),
    ("Envoyez au 12 bis, rue Victor-Hugo, 75016 Paris.", "fr", "12 bis, rue Victor-Hugo, 75016 Paris"),
    ("Vivo en Calle de Alcalá 123, 4º B, 28009 Madrid. Mi IBAN", "es", "Calle de Alcalá 123, 4º B, 28009 Madrid"),
    ("Dirección: Avda. Diagonal 640, 6º 2ª, 08017 Barcelona", "es", "Avda. Diagonal 640, 6º 2ª, 08017 Barcelona"),
])
def test_postal_addresses_cover_street_unit_city_and_postal_code(text, lang, address):
    assert found(text, lang).get(address) == Label.ADDRESS


@pytest.mark.parametrize("text,name", [
    ("Hello, my name is Rebecca Holloway and I need help", "Rebecca Holloway"),
    ("my name is john smith and i ordered soap", "john smith"),
    ("Bonjour, je m'appelle Marie-Ève Gagnon.", "Marie-Ève Gagnon"),
    ("Hola, me llamo María José Castañeda Ruiz, gracias", "María José Castañeda Ruiz"),
    ("Please ask Mr. O'Connor about it", "Mr. O'Connor"),
    ("Mi hija Valeria tiene dermatitis", "Valeria"),
    ("Thanks so much!\nPriyanka Raman", "Priyanka Raman"),
    ("Cancel and refund please. — R. Castellanos", "R. Castellanos"),
    ("I spoke with Amanda yesterday", "Amanda"),
])
def test_person_names_from_cues_titles_relations_sign_offs_and_given_names(text, name):
    assert found(text).get(name) == Label.PERSON


@pytest.mark.parametrize("text", [
    "Is the rosemary mint shampoo bar safe for color treated hair?",
    "Will you restock the Rose Clay soap before San Valentín?",
    "I'd like 12 bars of the oatmeal soap for June 14, 2026.",
    "Do you ship to Canada? How long does it take?",
    "SKU LIP-VAN-45 is out of stock",
])
def test_ordinary_shop_talk_is_left_alone(text):
    assert found(text) == {}


def test_validators_reject_lookalikes():
    assert luhn_ok("4111111111111111") and not luhn_ok("4111111111111112")
    assert iban_ok("GB82 WEST 1234 5698 7654 32") and not iban_ok("GB82 WEST 1234 5698 7654 33")
    assert Label.IP_ADDRESS not in found("call 999.300.12.1 later").values()
    assert found("login from 10.0.0.7 today") == {"10.0.0.7": Label.IP_ADDRESS}
    assert "4111 1111 1111 1112" not in {k for k, v in found("number 4111 1111 1111 1112").items() if v == "CARD"}


def test_detect_returns_start_end_label_tuples():
    spans = detect("email a@b.co now")
    start, end, label = spans[0][:3]
    assert (start, end, label) == (6, 12, "EMAIL") and spans[0].start == 6


def test_tokens_already_in_the_text_are_not_detected_again():
    text = "Hi TOKEN_3f2a9c12-7b4e-4d21-9a6f-012345678901, your order TOKEN_00000000-0000-4000-8000-123456789012"
    assert detect(text) == []


DEMO_CUSTOMER = {
    "id": 7734943758578, "first_name": "Marie-Ève", "last_name": "Gagnon", "email": "marie-eve.gagnon@example.com",
    "phone": "+15145550117",
    "default_address": {"address1": "2217, rue Beaubien Est, app. 3", "city": "Montréal", "zip": "H2G 1M9"},
}
DEMO_ORDERS = [{"name": "#1001", "order_number": 1001, "total_price": "163.26",
                "fulfillments": [{"tracking_number": "7023315339549921"}]}]


@pytest.mark.parametrize("text,value,label", [
    ("c'est marie-eve gagnon", "marie-eve gagnon", Label.PERSON),
    ("MARIE EVE GAGNON here", "MARIE EVE GAGNON", Label.PERSON),
    ("Gagnon, c'est mon nom", "Gagnon", Label.PERSON),
    ("call 514.555.0117", "514.555.0117", Label.PHONE),
    ("call +1 (514) 555 0117", "+1 (514) 555 0117", Label.PHONE),
    ("I live at 2217 Beaubien E apt 3", "2217 Beaubien E apt 3", Label.ADDRESS),
    ("tracking 7023 3153 3954 9921 please", "7023 3153 3954 9921", Label.TRACKING_NUMBER),
    ("I paid 163,26 for it", "163,26", Label.AMOUNT),
    ("MARIE-EVE.GAGNON@EXAMPLE.COM", "MARIE-EVE.GAGNON@EXAMPLE.COM", Label.EMAIL),
])
def test_known_entities_match_in_normalised_forms(text, value, label):
    known = KnownEntities.from_shopify(DEMO_CUSTOMER, DEMO_ORDERS)
    assert found(text, "fr", known).get(value) == label
    assert value not in found(text, "fr") or found(text, "fr")[value] is not None


def test_known_entities_are_found_where_patterns_alone_miss_them():
    known = KnownEntities.from_shopify(DEMO_CUSTOMER, DEMO_ORDERS)
    text = "gagnon here, about 1001"
    assert "gagnon" not in found(text) and found(text, known=known)["gagnon"] == Label.PERSON
    assert found(text, known=known)["1001"] == Label.ORDER_NUMBER


class Shipment(BaseModel):
    carrier: str
    tracking_number: str = pii_field("tracking")
    recipient: str | None = pii_field("name")
    note: str = ""


class OrderView(BaseModel):
    order_number: str = pii_field("order")
    email: str = pii_field("EMAIL")
    shipments: list[Shipment] = []


def test_structured_fields_marked_pii_are_collected_recursively():
    order = OrderView(order_number="1001", email="a@b.co", shipments=[
        Shipment(carrier="UPS", tracking_number="1Z999", recipient="Zoë Quinn", note="leave at door")])
    assert sorted(marked_values(order)) == [(Label.EMAIL, "a@b.co"), (Label.ORDER_NUMBER, "1001"),
                                            (Label.PERSON, "Zoë Quinn"), (Label.TRACKING_NUMBER, "1Z999")]


def test_second_tenant_customer_is_protected_from_its_own_files():
    import json
    from pathlib import Path

    folder = Path(__file__).resolve().parents[1] / "fixtures" / "tenants" / "northwind-tea"
    customer = json.loads((folder / "customers.json").read_text())["customers"][0]
    orders = [o for o in json.loads((folder / "orders.json").read_text())["orders"]
              if o.get("email") == customer.get("email")]
    known = KnownEntities.from_shopify(customer, orders)
    first = customer["first_name"]
    text = f"hi it's {first.lower()} again, phone {customer.get('phone') or ''}"
    spans = found(text, "en", known)
    assert first.lower() in spans
