"""Places a customer names, tied to their province or state and country (GeoNames extract), and the search that
looks for the zone of a named town."""

from __future__ import annotations

import json

import pytest

from core.rag.places import Gazetteer, Place, gazetteer, with_regions
from core.tenants import import_tenant


@pytest.mark.parametrize(("message", "expected"), [
    ("Salut, ça va-tu arriver avant Noël? Je suis à Sherbrooke", [Place("Sherbrooke", "Quebec", "CA")]),
    ("hola cuanto cuesta el envio a guadalajara", [Place("guadalajara", "Jalisco", "MX")]),  # large city, lower case
    ("aceptan pago contra entrega? vivo en Los Angeles", [Place("Los Angeles", "California", "US")]),
    ("Ok pis au Yukon? ma sœur reste à Whitehorse", [Place("Yukon", None, "CA"), Place("Whitehorse", "Yukon", "CA")]),
    ("Do you ship to Vancouver?", [Place("Vancouver", "British Columbia", "CA")]),
])
def test_named_towns_and_divisions_are_found(message, expected):
    assert gazetteer().find(message) == expected


@pytest.mark.parametrize("message", [
    "Is the mango soap in stock?",  # a town of India, and a fruit
    "Mango soap, do you have it?",  # first word of the sentence: no proper-noun evidence
    "ma sœur reste à whitehorse",  # a small town's name in lower case could be any word
    "y cuanto cuesta? me lo pueden mandar directo a Chile?",  # a country: its own name is the zone
    "Hola, me pueden dar crédito en la tienda en vez de reembolso? hay algún bono?",
])
def test_ordinary_words_and_countries_add_nothing(message):
    assert gazetteer().find(message) == []
    assert with_regions(message, "es") == message


def test_the_zone_is_added_in_the_askers_language_and_in_english():
    assert with_regions("me lo pueden mandar a Monterrey?", "es") == \
        "me lo pueden mandar a Monterrey? (Monterrey: Nuevo León, México / Mexico)"
    assert with_regions("vous livrez à Vancouver?", "fr") == \
        "vous livrez à Vancouver? (Vancouver: Colombie-Britannique / British Columbia, Canada)"
    assert with_regions("Vous livrez-tu au Québec?", "fr") == "Vous livrez-tu au Québec? (Québec: Canada)"
    # what the message names itself is not repeated; places of one zone share it
    assert with_regions("Vous livrez au Québec? Combien pour Montréal", "fr") == \
        "Vous livrez au Québec? Combien pour Montréal (Québec, Montréal: Canada)"
    assert with_regions("Do you ship to Canada? I live in Vancouver, British Columbia", "en") == \
        "Do you ship to Canada? I live in Vancouver, British Columbia"


def test_a_division_name_means_the_division_unless_one_of_its_own_cities_has_it():
    table = Gazetteer([
        "C\tCA\tCanada\tCanada\tCanadá", "C\tUS\tUnited States\tÉtats-Unis\tEstados Unidos",
        "R\tCA.12\tYukon", "R\tCA.10\tQuebec", "R\tUS.OK\tOklahoma",
        "Yukon\tUS.OK\t25", "Québec\tCA.10\t531", "Tulsa\tUS.OK\t413",
    ])
    assert table.find("shipping to the Yukon?") == [Place("Yukon", None, "CA")]
    assert table.find("shipping to Québec?") == [Place("Québec", "Quebec", "CA")]
    assert table.zone(Place("Tulsa", "Oklahoma", "US"), "fr") == ["Oklahoma", "États-Unis / United States"]


def test_the_extract_is_small_and_says_where_it_comes_from():
    from core.rag.places import PLACES_PATH

    assert PLACES_PATH.stat().st_size < 1_000_000
    header = PLACES_PATH.read_text(encoding="utf-8").splitlines()[:3]
    assert any("GeoNames" in line and "CC BY 4.0" in line for line in header)
    assert "Creative Commons Attribution 4.0" in (PLACES_PATH.parent / "README.md").read_text(encoding="utf-8")


def test_a_town_is_searched_as_its_zone(services, tmp_path):
    (tmp_path / "tenant.json").write_text(json.dumps({"name": "Zones", "languages": ["en", "fr-CA", "es"]}))
    (tmp_path / "quebec.md").write_text("---\ntitle: Delivery in Quebec\n---\n# Delivery in Quebec\n\n"
                                        "Parcels to Quebec, Canada arrive in 2 days and cost 9 dollars.")
    (tmp_path / "mexico.md").write_text("---\ntitle: Delivery in Mexico\n---\n# Delivery in Mexico\n\n"
                                        "Parcels to Mexico arrive in 10 days and cost 25 dollars.")
    (tmp_path / "texas.md").write_text("---\ntitle: Delivery in Texas\n---\n# Delivery in Texas\n\n"
                                       "Parcels to Texas, United States arrive in 4 days and cost 6 dollars.")
    import_tenant("zones", tmp_path, services.store, knowledge=services.knowledge)
    threshold = services.settings.KNOWLEDGE_MIN_SCORE
    for question, language, page in [("How long does a parcel take to Sherbrooke?", "en", "quebec"),
                                     ("¿Cuánto tarda un paquete a Monterrey?", "es", "mexico"),
                                     ("Combien de temps pour un colis à Lubbock?", "fr", "texas")]:
        best = services.knowledge.search("zones", with_regions(question, language), lang=language)[0]
        assert best.doc_id == page and best.score >= threshold
        # (the town's name alone leaves the right page under the threshold: "I don't know")
        assert services.knowledge.search("zones", question, lang=language)[0].score < threshold


def test_a_name_made_of_ordinary_words_needs_its_capital():
    assert gazetteer().find("pis les douanes? je vais tu payer de quoi à la porte?") == []  # La Porte, Texas
    assert gazetteer().find("je vais payer à La Porte") == [Place("La Porte", "Texas", "US")]
    assert gazetteer().find("vivo en los angeles") == [Place("los angeles", "California", "US")]  # a large city


@pytest.mark.parametrize("message", [
    "Hi, this is Maria Lopez, where is my order?",  # a surname that is also a town
    "el saco Aurora es de pluma de ganso o de pato?",  # a product named like a town
    "c'est Martin qui a passé la commande",
])
def test_a_capitalised_word_is_a_small_town_only_where_a_place_goes(message):
    assert gazetteer().find(message) == []


def test_the_places_of_a_text_are_found_once_and_each_caller_gets_its_own_list():
    table = gazetteer()
    first = table.find("je suis à Sherbrooke")
    assert [p.name for p in first] == ["Sherbrooke"]
    first.clear()  # a caller changing its list changes no one else's
    assert [p.name for p in table.find("je suis à Sherbrooke")] == ["Sherbrooke"]
    assert table._found.cache_info().hits >= 1


def test_a_division_is_named_in_every_language_a_shipping_page_may_use():
    from core.rag.places import names_any, zone_levels, zone_names

    divisions, countries = zone_levels("cuánto cuesta el envío a Vancouver?")
    assert {"British Columbia", "Colombie-Britannique", "Columbia Británica"} <= set(divisions)
    assert names_any("Zona 4: Manitoba, Saskatchewan, Alberta, Columbia Británica", zone_names("envío a Vancouver"))
    # (a division named in French or Spanish is the same division)
    assert zone_levels("pis en Nouvelle-Écosse?") == zone_levels("y a Nueva Escocia?") == zone_levels("to Halifax")

