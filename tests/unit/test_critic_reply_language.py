"""The output critic's language check: names the shop gave do not make a reply another language."""

from core.agents.critic import wrong_language

CONTEXT = ("Darjeeling First Flush 2026: our first flush from the Castleton estate. Rooibos Vanilla. "
           "Ships by Canada Post.")


def test_a_french_reply_naming_english_products_is_french():
    reply = ("Oui, Darjeeling First Flush 2026 est en stock (14 disponibles) à 16.00 CAD. Formats : 50 g 16.00 "
             "(en stock); 100 g 29.00 (en rupture). Oui, Rooibos Vanilla est en stock (43 disponibles) à 10.00 CAD.")
    assert wrong_language(reply, "fr", names_from=CONTEXT) is None


def test_an_english_reply_to_a_french_customer_is_still_english():
    reply = "Yes, the Darjeeling First Flush is in stock and we ship it by Canada Post within two business days."
    assert wrong_language(reply, "fr", names_from=CONTEXT) == "en"


def test_a_product_named_in_the_shops_language_keeps_an_english_reply_english():
    # A French shop's product and option names in an English reply are the shop's names, not French.
    reply = ("Day: Sunday, Hours: 11 a.m. to 4 p.m. Kombucha — culture et trousse in SCOBY + 250 mL de liquide de "
             "départ is in stock (16.95 CAD).")
    assert wrong_language(reply, "en", names_from="") == "fr"
    assert wrong_language(reply, "en", names=["Kombucha — culture et trousse", "SCOBY + 250 mL de liquide de départ"]
                          ) is None
    # (names left out, what is left must still be the customer's language)
    french = "La boutique est ouverte le dimanche de 11 h à 16 h et la Kombucha — culture et trousse est en stock."
    assert wrong_language(french, "en", names=["Kombucha — culture et trousse"]) == "fr"
