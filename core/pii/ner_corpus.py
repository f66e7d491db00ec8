"""Writes the learned name / address detector's training sentences (``knowledge/pii/ner-*.jsonl``).

``python -m core.pii.ner_corpus`` fills customer-message shapes in en / fr-CA / es (requests, signatures, forms,
addresses on one line or several, lower case, typos, names that are also common words, product and place names that
are not PII) with names and addresses made by Faker (en_US / en_CA / en_GB, fr_CA / fr_FR, es_ES / es_MX). It is run
once and its output committed, so training is reproducible without Faker (a development dependency).

``ner-train.jsonl`` holds the training sentences; ``ner-dev.jsonl`` is a synthetic check set made from shapes the
training never sees (every fifth shape of each language) with another seed.
"""

from __future__ import annotations

import json
import random
import re
import sys
from pathlib import Path

from core.config import REPO_ROOT

OUT_DIR = REPO_ROOT / "knowledge" / "pii"
SEED_TRAIN, SEED_DEV = 20261206, 777
PER, ADDR = "PERSON", "ADDRESS"

# Slots: {MSG} a customer message without names or addresses (the intent utterances of knowledge/intents, see
# ``utterances``), {NAME} full name, {FIRST} given name, {LAST} family name (after a title), {ADDR} address on one line,
# {ADDR_ML} on several lines, {STREET} street line only, {CITYLINE} city + region + postal code, {CITY} a city
# named as where the customer lives. Not PII for this detector: {PRODUCT} {ORDER} {EMAIL} {PHONE} {DATE} {SHOP}
# {BIGCITY} (a city named as a place, not an address) {COMPANY} {CARD} {EXP} {AMOUNT} {TRACKING} {IBAN}.
TEMPLATES: dict[str, list[str]] = {
    "en": [
        "{FIRST} and {FIRST} both ordered the {PRODUCT}, can you combine the shipping?",
        "Thanks {FIRST}!",
        "{FIRST} here. {MSG}",
        "--\n{NAME}\nCustomer since 2019",
        "The courier left it with {NAME} at number 12, who is that?",
        "I spoke with {FIRST} on the phone and {FIRST} said to email you.",
        "{MSG} Sent by {NAME}",
        "From: {NAME} <{EMAIL}>\n{MSG}",
        "Hi team, {LAST} family here, {MSG}",
        "Please put {NAME} as the recipient and {STREET} as the address.",
        "{MSG} ({NAME}, {CITYLINE})",
        "yes its {NAME} from {CITY}",
        "Please charge my Visa {CARD} (exp {EXP}) instead, the Amex failed.",
        "I was charged {AMOUNT} twice on {DATE}. Refund the {AMOUNT} please. Call me at {PHONE}.",
        "Tracking {TRACKING} hasn't moved in 6 days, I ordered 3 items for {AMOUNT}.",
        "My IBAN is {IBAN}, please send the refund there. Madam, Sir, thank you.",
        "Size 10 in the {PRODUCT}, pack of 12, room 4 at the office after 6pm. Thanks!",
        "{NAME}, Mastercard ending 4444, order {ORDER}, total {AMOUNT}.",
        "Call me: {PHONE}. I'm very unhappy. Ticket {ORDER} is still open.",
        "{MSG} Thanks!",
        "{MSG}\nWarm regards",
        "{MSG} Cheers",
        "{MSG}",
        "{MSG}",
        "{MSG}\n\nThanks,\n{NAME}",
        "Hi, I'm {NAME}. {MSG}",
        "{MSG} My address is {ADDR}.",
        "{MSG}\n{NAME}\n{ADDR_ML}",
        "{MSG} - {FIRST}",
        "{MSG} Please send it to {STREET}, {CITYLINE}.",
        "Hello {FIRST}, {MSG}",
        "{MSG} I'm in {CITY} by the way.",
        "Hi, my name is {NAME} and I ordered the {PRODUCT} last week. Order {ORDER}.",
        "hello this is {NAME}, where is my order {ORDER}??",
        "Please ship it to {ADDR}.",
        "Can you change the delivery address to {ADDR} please",
        "My new address is {ADDR_ML}",
        "Ship to:\n{NAME}\n{ADDR_ML}",
        "Thanks,\n{NAME}",
        "Thanks so much!\n\n{NAME}\n{PHONE}",
        "Best regards,\n{NAME}\n{ADDR_ML}",
        "I moved to {STREET} last month, can you update my account?",
        "the package went to {STREET} instead of {STREET}",
        "I live at {ADDR}, is delivery free there?",
        "Order {ORDER} for {NAME}, {ADDR}",
        "Name: {NAME}\nAddress: {ADDR}\nPhone: {PHONE}",
        "Full name: {NAME}\nStreet: {STREET}\nCity: {CITYLINE}",
        "My sister {FIRST} picked it up for me but it was the wrong size",
        "Hi, it's {FIRST} again. Any news on my refund?",
        "Could you ask {NAME} to call me back? She helped me yesterday.",
        "Dear Mr. {LAST}, thank you for your reply.",
        "Hello Ms. {LAST}, I received the {PRODUCT} but it was damaged.",
        "I'm ordering a gift for {NAME}, can you add a note?",
        "the gift is for my friend {NAME} at {ADDR}",
        "my billing address is {STREET}, {CITYLINE} but ship to my office",
        "Send the replacement to {NAME}, {STREET}, {CITYLINE}.",
        "Do you ship to {BIGCITY}? I'm visiting family there.",
        "Is the {PRODUCT} in stock? I want two.",
        "I will mark the box as returned when it leaves {BIGCITY}.",
        "Hope you're well! The {PRODUCT} smells amazing.",
        "May I get a refund for order {ORDER}? It arrived on {DATE}.",
        "Your colleague {FIRST} said I'd get a discount code.",
        "{NAME} here, I never got the confirmation email at {EMAIL}",
        "wrong address on my order, it should be {ADDR} not {STREET}",
        "I'm at {STREET} in {CITY}, can I pick it up instead?",
        "Please cancel order {ORDER}. {NAME}",
        "can u send it to my work {ADDR} thx",
        "Hi {FIRST}, thanks for the quick answer!",
        "The parcel says delivered to {CITYLINE} but I'm in {CITY}.",
        "I bought the {PRODUCT} from {SHOP} and it leaked.",
        "{COMPANY} ordered 40 units of the {PRODUCT} for our office.",
        "Cheers, {FIRST}",
        "Recipient: {NAME}, {ADDR}",
        "It was signed for by {NAME} but I don't know who that is.",
        "Account holder: {NAME}",
        "I am writing on behalf of my mother, {NAME}, who lives at {ADDR}.",
        "my name's {NAME} my address is {ADDR} and my phone is {PHONE}",
        "Grace period for returns? I got it on {DATE}.",
        "The {PRODUCT} was a present for {FIRST}.",
        "Please update: {NAME} / {STREET} / {CITYLINE}",
        "We're moving from {CITY} to {ADDR} on {DATE}.",
        "Hey! {FIRST} from the {BIGCITY} market stall here, do you do wholesale?",
    ],
    "fr": [
        "{FIRST} et {FIRST} ont commandé le {PRODUCT}, pouvez-vous regrouper l'envoi?",
        "Merci {FIRST}!",
        "{FIRST} ici. {MSG}",
        "--\n{NAME}\nCliente depuis 2019",
        "Le livreur l'a laissé chez {NAME} au numéro 12, qui est-ce?",
        "J'ai parlé avec {FIRST} au téléphone et {FIRST} m'a dit d'écrire.",
        "{MSG} Envoyé par {NAME}",
        "De : {NAME} <{EMAIL}>\n{MSG}",
        "Bonjour, la famille {LAST} ici, {MSG}",
        "Mettez {NAME} comme destinataire et {STREET} comme adresse.",
        "{MSG} ({NAME}, {CITYLINE})",
        "oui c'est {NAME} de {CITY}",
        "Veuillez débiter ma Visa {CARD} (exp {EXP}), la Amex a été refusée.",
        "On m'a facturé {AMOUNT} deux fois le {DATE}. Remboursez les {AMOUNT} svp. Appelez-moi au {PHONE}.",
        "Le suivi {TRACKING} ne bouge plus depuis 6 jours, j'ai commandé 3 articles pour {AMOUNT}.",
        "Madame, Monsieur, mon IBAN est {IBAN}, versez-y le remboursement.",
        "Taille 10 du {PRODUCT}, paquet de 12, local 4 au bureau après 18 h. Merci!",
        "{NAME}, Mastercard se terminant par 4444, commande {ORDER}, total {AMOUNT}.",
        "Appelez-moi : {PHONE}. Je suis très mécontente. Le dossier {ORDER} est encore ouvert.",
        "{MSG} Merci!",
        "{MSG}\nCordialement",
        "{MSG} Bonne journée",
        "{MSG}",
        "{MSG}",
        "{MSG}\n\nMerci,\n{NAME}",
        "Bonjour, ici {NAME}. {MSG}",
        "{MSG} Mon adresse est {ADDR}.",
        "{MSG}\n{NAME}\n{ADDR_ML}",
        "{MSG} - {FIRST}",
        "{MSG} Envoyez-le au {STREET}, {CITYLINE}.",
        "Bonjour {FIRST}, {MSG}",
        "{MSG} Je suis à {CITY} en passant.",
        "Bonjour, je m'appelle {NAME} et j'ai commandé le {PRODUCT}. Commande {ORDER}.",
        "bonjour c'est {NAME}, où est ma commande {ORDER}?",
        "Pouvez-vous livrer au {ADDR}?",
        "Ma nouvelle adresse est {ADDR_ML}",
        "Livraison :\n{NAME}\n{ADDR_ML}",
        "Merci,\n{NAME}",
        "Merci beaucoup!\n\n{NAME}\n{PHONE}",
        "Cordialement,\n{NAME}\n{ADDR_ML}",
        "J'ai déménagé au {STREET} le mois dernier, pouvez-vous mettre mon compte à jour?",
        "le colis est allé au {STREET} au lieu du {STREET}",
        "J'habite au {ADDR}, la livraison est-elle gratuite?",
        "Commande {ORDER} pour {NAME}, {ADDR}",
        "Nom : {NAME}\nAdresse : {ADDR}\nTéléphone : {PHONE}",
        "Ma sœur {FIRST} l'a récupéré pour moi mais ce n'est pas la bonne taille",
        "Bonjour, c'est encore {FIRST}. Des nouvelles de mon remboursement?",
        "Pouvez-vous demander à {NAME} de me rappeler?",
        "Bonjour M. {LAST}, merci pour votre réponse.",
        "Madame {LAST}, j'ai reçu le {PRODUCT} mais il était abîmé.",
        "C'est un cadeau pour {NAME}, pouvez-vous ajouter un mot?",
        "le cadeau est pour mon amie {NAME} au {ADDR}",
        "Envoyez le remplacement à {NAME}, {STREET}, {CITYLINE}.",
        "Livrez-vous à {BIGCITY}? Je suis en visite là-bas.",
        "Le {PRODUCT} est-il en stock? J'en veux deux.",
        "Puis-je avoir un remboursement pour la commande {ORDER}? Reçue le {DATE}.",
        "Votre collègue {FIRST} m'a promis un code promo.",
        "Ici {NAME}, je n'ai jamais reçu le courriel à {EMAIL}",
        "mauvaise adresse sur ma commande, c'est {ADDR} et non {STREET}",
        "Je suis au {STREET} à {CITY}, je peux passer le chercher?",
        "Annulez la commande {ORDER} svp. {NAME}",
        "envoyez-le à mon bureau {ADDR} merci",
        "Bonjour {FIRST}, merci pour la réponse rapide!",
        "Le suivi indique livré à {CITYLINE} mais je suis à {CITY}.",
        "J'ai acheté le {PRODUCT} chez {SHOP} et il coule.",
        "{COMPANY} a commandé 40 unités du {PRODUCT} pour le bureau.",
        "Bonne journée, {FIRST}",
        "Destinataire : {NAME}, {ADDR}",
        "Titulaire du compte : {NAME}",
        "J'écris au nom de ma mère, {NAME}, qui habite au {ADDR}.",
        "mon nom est {NAME} mon adresse {ADDR} tel {PHONE}",
        "Le {PRODUCT} était un cadeau pour {FIRST}.",
        "Mise à jour : {NAME} / {STREET} / {CITYLINE}",
        "On déménage de {CITY} au {ADDR} le {DATE}.",
        "Salut! {FIRST} du marché de {BIGCITY}, faites-vous de la vente en gros?",
        "Au nom de {NAME}, livraison au {ADDR}",
        "Mon conjoint {NAME} va passer récupérer la commande {ORDER}.",
    ],
    "es": [
        "{FIRST} y {FIRST} pidieron el {PRODUCT}, ¿pueden juntar el envío?",
        "¡Gracias {FIRST}!",
        "{FIRST} por aquí. {MSG}",
        "--\n{NAME}\nCliente desde 2019",
        "El repartidor lo dejó con {NAME} en el número 12, ¿quién es?",
        "Hablé con {FIRST} por teléfono y {FIRST} me dijo que escribiera.",
        "{MSG} Enviado por {NAME}",
        "De: {NAME} <{EMAIL}>\n{MSG}",
        "Hola, la familia {LAST} por aquí, {MSG}",
        "Pongan a {NAME} como destinatario y {STREET} como dirección.",
        "{MSG} ({NAME}, {CITYLINE})",
        "sí soy {NAME} de {CITY}",
        "Cóbrenlo a mi Visa {CARD} (caduca {EXP}), la Amex falló.",
        "Me cobraron {AMOUNT} dos veces el {DATE}. Devuélvanme los {AMOUNT}. Llámenme al {PHONE}.",
        "El seguimiento {TRACKING} no se mueve desde hace 6 días, pedí 3 artículos por {AMOUNT}.",
        "Estimados señores, mi IBAN es {IBAN}, envíen ahí el reembolso.",
        "Talla 10 del {PRODUCT}, paquete de 12, oficina 4 después de las 18 h. ¡Gracias!",
        "{NAME}, Mastercard terminada en 4444, pedido {ORDER}, total {AMOUNT}.",
        "Llámenme: {PHONE}. Estoy muy molesta. El ticket {ORDER} sigue abierto.",
        "{MSG} ¡Gracias!",
        "{MSG}\nSaludos",
        "{MSG} Un abrazo",
        "{MSG}",
        "{MSG}",
        "{MSG}\n\nGracias,\n{NAME}",
        "Hola, soy {NAME}. {MSG}",
        "{MSG} Mi dirección es {ADDR}.",
        "{MSG}\n{NAME}\n{ADDR_ML}",
        "{MSG} - {FIRST}",
        "{MSG} Envíenlo a {STREET}, {CITYLINE}.",
        "Hola {FIRST}, {MSG}",
        "{MSG} Estoy en {CITY}, por cierto.",
        "Hola, me llamo {NAME} y pedí el {PRODUCT}. Pedido {ORDER}.",
        "hola soy {NAME}, ¿dónde está mi pedido {ORDER}?",
        "¿Pueden enviarlo a {ADDR}?",
        "Mi nueva dirección es {ADDR_ML}",
        "Envío:\n{NAME}\n{ADDR_ML}",
        "Gracias,\n{NAME}",
        "¡Muchas gracias!\n\n{NAME}\n{PHONE}",
        "Saludos cordiales,\n{NAME}\n{ADDR_ML}",
        "Me mudé a {STREET} el mes pasado, ¿pueden actualizar mi cuenta?",
        "el paquete llegó a {STREET} en vez de {STREET}",
        "Vivo en {ADDR}, ¿el envío es gratis?",
        "Pedido {ORDER} a nombre de {NAME}, {ADDR}",
        "Nombre: {NAME}\nDirección: {ADDR}\nTeléfono: {PHONE}",
        "Mi hermana {FIRST} lo recogió pero no era la talla",
        "Hola, soy {FIRST} otra vez. ¿Alguna novedad del reembolso?",
        "¿Pueden pedirle a {NAME} que me llame?",
        "Estimado Sr. {LAST}, gracias por su respuesta.",
        "Sra. {LAST}, recibí el {PRODUCT} pero llegó dañado.",
        "Es un regalo para {NAME}, ¿pueden añadir una nota?",
        "el regalo es para mi amiga {NAME} en {ADDR}",
        "Envíen el reemplazo a {NAME}, {STREET}, {CITYLINE}.",
        "¿Envían a {BIGCITY}? Estoy de visita.",
        "¿Hay {PRODUCT} en stock? Quiero dos.",
        "¿Me pueden reembolsar el pedido {ORDER}? Llegó el {DATE}.",
        "Su compañera {FIRST} me dijo que tendría un descuento.",
        "Les escribe {NAME}, nunca recibí el correo en {EMAIL}",
        "dirección equivocada, es {ADDR} y no {STREET}",
        "Estoy en {STREET} en {CITY}, ¿puedo recogerlo?",
        "Cancelen el pedido {ORDER} por favor. {NAME}",
        "mándenlo a mi trabajo {ADDR} gracias",
        "Hola {FIRST}, ¡gracias por la respuesta!",
        "El seguimiento dice entregado en {CITYLINE} pero estoy en {CITY}.",
        "Compré el {PRODUCT} en {SHOP} y gotea.",
        "{COMPANY} pidió 40 unidades del {PRODUCT} para la oficina.",
        "Un saludo, {FIRST}",
        "Destinatario: {NAME}, {ADDR}",
        "Titular de la cuenta: {NAME}",
        "Escribo de parte de mi madre, {NAME}, que vive en {ADDR}.",
        "mi nombre es {NAME} mi dirección {ADDR} tel {PHONE}",
        "El {PRODUCT} era un regalo para {FIRST}.",
        "Actualizar: {NAME} / {STREET} / {CITYLINE}",
        "Nos mudamos de {CITY} a {ADDR} el {DATE}.",
        "¡Hola! {FIRST} del mercado de {BIGCITY}, ¿venden al por mayor?",
        "Mi esposo {NAME} pasará a recoger el pedido {ORDER}.",
        "Atentamente,\n{NAME}\nTel. {PHONE}",
    ],
}

LOCALES = {"en": ["en_US", "en_US", "en_CA", "en_GB"], "fr": ["fr_CA", "fr_CA", "fr_FR"], "es": ["es_ES", "es_MX"]}
LANG_CODE = {"en": "en", "fr": "fr-CA", "es": "es"}

# Places named as places ("do you ship to …"), products and shops: capitalised words that are not PII.
BIG_CITIES = {"en": ["Toronto", "New York", "Chicago", "Vancouver", "London", "Boston", "Seattle", "Dallas", "Calgary",
                     "Ottawa", "Miami", "Denver", "Phoenix", "Manchester", "Halifax"],
              "fr": ["Montréal", "Québec", "Paris", "Lyon", "Gatineau", "Sherbrooke", "Trois-Rivières", "Laval",
                     "Marseille", "Toulouse", "Lévis", "Saguenay"],
              "es": ["Madrid", "Barcelona", "Sevilla", "Valencia", "Monterrey", "Guadalajara", "Ciudad de México",
                     "Puebla", "Bilbao", "Zaragoza", "Málaga", "Mérida"]}
PRODUCTS = ["Lavender Fields soap", "Rose Petal cream", "Grace Hill candle", "Vanilla Honey lip balm",
            "Sage & Cedar kit", "Ruby Glow serum", "Olive Grove shampoo", "Jade Roller", "Amber Nights candle",
            "Holly Berry gift box",
            "Victoria Rose mist", "Summer Breeze body oil", "Ocean Mist bar", "Jordan Trail hiking socks",
            "Charlotte tote bag", "Baxter travel mug", "Hunter Green scarf", "Marguerite tea blend"]
SHOPS = ["Maison Lavande", "Green Leaf Co.", "Savonnerie du Village", "La Jabonería", "Bloom & Co", "Pure Earth Market"]

_REAL_CITIES = {
    "en_US": [("Springfield", "IL"), ("Austin", "TX"), ("Portland", "OR"), ("Columbus", "OH"), ("Madison", "WI"),
              ("Fresno", "CA"), ("Tampa", "FL"), ("Raleigh", "NC"), ("Boise", "ID"), ("Reno", "NV")],
    "en_CA": [("Toronto", "ON"), ("Calgary", "AB"), ("Halifax", "NS"), ("Victoria", "BC"), ("Winnipeg", "MB"),
              ("Regina", "SK"), ("Moncton", "NB"), ("Kingston", "ON")],
    "en_GB": [("Leeds", ""), ("Bristol", ""), ("Cardiff", ""), ("York", ""), ("Norwich", ""), ("Bath", "")],
    "fr_CA": [("Montréal", "QC"), ("Québec", "QC"), ("Gatineau", "QC"), ("Sherbrooke", "QC"), ("Rimouski", "QC"),
              ("Laval", "QC"), ("Saint-Jérôme", "QC"), ("Moncton", "NB")],
    "fr_FR": [("Lyon", ""), ("Nantes", ""), ("Rennes", ""), ("Lille", ""), ("Dijon", ""), ("Nice", "")],
    "es_ES": [("Madrid", "Madrid"), ("Sevilla", "Sevilla"), ("Valencia", "Valencia"), ("Bilbao", "Vizcaya"),
              ("Granada", "Granada"), ("Oviedo", "Asturias")],
    "es_MX": [("Guadalajara", "Jal."), ("Monterrey", "N.L."), ("Puebla", "Pue."), ("Ciudad de México", "CDMX"),
              ("Querétaro", "Qro."), ("Mérida", "Yuc.")],
}
_PROVINCE_LONG = {"QC": "(Québec)", "ON": "(Ontario)", "NB": "(Nouveau-Brunswick)"}


def _typo(word: str, rng: random.Random) -> str:
    if len(word) < 4 or not word.isalpha():
        return word
    i = rng.randrange(1, len(word) - 1)
    kind = rng.random()
    if kind < 0.4:
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if kind < 0.7:
        return word[:i] + word[i + 1:]
    return word[:i] + word[i] + word[i:]


class _Maker:
    """Names and addresses of one locale, in the forms customers type them."""

    def __init__(self, locale: str, seed: int) -> None:
        from faker import Faker  # development dependency: only this generator uses it

        self.locale = locale
        self.fake = Faker(locale)
        self.fake.seed_instance(seed)
        self.rng = random.Random(seed)

    def first(self) -> str:
        return self.fake.first_name()

    def last(self) -> str:
        return self.fake.last_name()

    def name(self) -> str:
        r = self.rng.random()
        if self.locale.startswith("es") and r < 0.4:
            return f"{self.first()} {self.last()} {self.last()}"
        if r < 0.12 and self.locale.startswith("en"):
            return f"{self.first()} {self.first()[0]}. {self.last()}"
        if r < 0.18:
            return f"{self.first()[0]}. {self.last()}"
        return f"{self.first()} {self.last()}"

    def _number(self) -> str:
        r = self.rng.random()
        return str(self.rng.randint(1, 99) if r < 0.4 else self.rng.randint(100, 9999) if r < 0.9
                   else self.rng.randint(10000, 99999))

    def _street_name(self) -> str:
        r = self.rng.random()
        if r < 0.35:
            return self.last()
        if r < 0.5:
            return f"{self.first()} {self.last()}" if not self.locale.startswith("en") else self.first()
        if r < 0.65 and self.locale.startswith("en"):
            return self.rng.choice(["Main", "Oak", "Maple", "Pine", "Cedar", "Elm", "Lake", "Hill", "Park", "Church",
                                    "Mill", "King", "Queen", "Victoria", "Washington", "Lincoln", "Sunset",
                                    "River", "Spring", "Highland", "1st", "2nd", "3rd", "5th", "12th", "42nd"])
        if r < 0.65:
            return self.rng.choice(["Mayor", "Real", "del Sol", "de la Paz", "Sainte-Catherine", "Saint-Denis",
                                    "Notre-Dame", "des Érables", "du Parc", "Principal", "de la Reforma", "Juárez",
                                    "Hidalgo", "de Alcalá", "Gran Vía", "Sherbrooke", "Laurier", "Beaubien"])
        return self.fake.street_name().split(" ", 1)[-1] if self.rng.random() < 0.5 else self.last()

    def street(self) -> str:
        rng, loc = self.rng, self.locale
        if loc in ("en_US", "en_CA", "en_GB"):
            if rng.random() < 0.3:
                line = self.fake.street_address()
            else:
                suffix = rng.choice(["Street", "St", "St.", "Avenue", "Ave", "Ave.", "Road", "Rd", "Drive", "Dr",
                                     "Lane", "Ln", "Boulevard", "Blvd", "Court", "Ct", "Way", "Place", "Pl",
                                     "Crescent", "Terrace", "Circle", "Parkway", "Trail", "Close", "Grove", "Row",
                                     self.fake.street_suffix()])
                direction = rng.choice(["", "", "", "", "N ", "S ", "East ", "W. "])
                line = f"{self._number()} {direction}{self._street_name()} {suffix}"
                if rng.random() < 0.1:
                    line += rng.choice([" NW", " SE", " East", " West"])
            if rng.random() < 0.25:
                unit = rng.choice(["Apt 4B", "Apt. 12", "Unit 3", "Suite 200", "#5", "apt 2", "Flat 7", "Unit 1104"])
                if loc == "en_GB" and unit.startswith("Flat"):
                    line = f"{unit}, {line}"
                else:
                    line = f"{line}, {unit}" if rng.random() < 0.7 else f"{line} {unit}"
            return line
        if loc in ("fr_CA", "fr_FR"):
            kind = rng.choice(["rue", "rue", "rue", "avenue", "boulevard", "boul.", "chemin", "place", "rang",
                               "montée", "allée", "impasse", "av.", "bd", "côte", "croissant", "route"])
            name = self._street_name()
            if loc == "fr_FR" and rng.random() < 0.5:
                name = rng.choice(["de la ", "du ", "des ", "de "]) + name
            line = f"{self._number()}{',' if rng.random() < 0.5 else ''} {kind} {name}"
            if loc == "fr_CA" and rng.random() < 0.25:
                line += rng.choice([" Est", " Ouest", " Nord", " Sud"])
            if rng.random() < 0.3:
                unit = rng.choice(["app. 3", "app 12", "appartement 4", "bureau 200", "#5", "unité 2"])
                line = f"{line}, {unit}" if rng.random() < 0.6 else f"{unit}-{line}" if unit[0] == "#" else \
                    f"{line} {unit}"
            return line
        kind = rng.choice(["Calle", "Calle", "C/", "C/ ", "Avenida", "Av.", "Avda.", "Paseo", "Plaza", "Camino",
                           "Carretera", "Calzada", "Privada", "Ronda", "Travesía", "Carrer"])
        name = self._street_name()
        if rng.random() < 0.4:
            name = rng.choice(["de ", "del ", "de la ", "de los "]) + name
        number = self._number()
        line = f"{kind.rstrip()} {name}{rng.choice([' ', ', ', ', n.º ', ' #', ' No. '])}{number}"
        if rng.random() < 0.4:
            line += rng.choice([f", {rng.randint(1, 9)}º {rng.choice('ABCD')}", f" {rng.randint(1, 9)}º",
                                ", piso 3", f" Int. {rng.randint(1, 40)}", ", Depto. 5", ", bajo",
                                f", {rng.randint(1, 6)}.º izq."])
        return line

    def city_region(self) -> tuple[str, str]:
        if self.rng.random() < 0.5:
            return self.rng.choice(_REAL_CITIES[self.locale])
        city = self.fake.city()
        region = ""
        for attr in ("state_abbr", "province_abbr"):
            if hasattr(self.fake, attr):
                region = getattr(self.fake, attr)()
                break
        if not region and self.locale in ("es_ES", "es_MX"):
            region = self.fake.administrative_unit()
        return city, region

    def cityline(self) -> str:
        city, region = self.city_region()
        code = self.fake.postcode()
        rng, loc = self.rng, self.locale
        if loc in ("en_US", "en_CA"):
            return rng.choice([f"{city}, {region} {code}", f"{city} {region} {code}", f"{city}, {region}",
                               f"{city}, {region}, {code}"])
        if loc == "en_GB":
            return rng.choice([f"{city} {code}", f"{city}, {code}", f"{city}\n{code}"])
        if loc == "fr_CA":
            long = _PROVINCE_LONG.get(region, f"({region})")
            return rng.choice([f"{city} {long} {code}", f"{city}, {region} {code}", f"{city}, {region}",
                               f"{city} (Qc) {code}"])
        if loc == "fr_FR":
            return rng.choice([f"{code} {city}", f"{code} {city.upper()}", f"{code} {city}, France"])
        if loc == "es_MX":
            colonia = f"Col. {self.rng.choice([self.last(), 'Centro', 'Roma Norte', 'Del Valle', self.first()])}"
            return rng.choice([f"{colonia}, {code} {city}, {region}", f"{code} {city}, {region}",
                               f"{colonia}, C.P. {code}, {city}"])
        return rng.choice([f"{code} {city}", f"{code} {city} ({region})", f"{code}, {city}"])

    def address(self, multiline: bool = False) -> str:
        sep = "\n" if multiline else self.rng.choice([", ", ", ", " ", ", "])
        return f"{self.street()}{sep}{self.cityline()}"

    def city(self) -> str:
        return self.city_region()[0]


_WORDS = re.compile(r"\w+")


def _shingles(text: str, n: int = 5) -> set[tuple[str, ...]]:
    words = _WORDS.findall(text.lower())
    return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}


def utterances(lang: str, train: bool) -> list[str]:
    """Customer messages of one language from the intent sets, without the ones the rule detectors find a name or an
    address in (they would teach the model that a name is not one) and without any that shares five words in a row
    with a message of the PII eval set (``knowledge/eval/pii``), which stays a development measure only."""
    from .addresses import find_addresses
    from .names import find_names

    eval_shingles: set[tuple[str, ...]] = set()
    for path in (REPO_ROOT / "knowledge" / "eval" / "pii").glob("*.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            eval_shingles |= _shingles(json.loads(line)["text"])
    out = []
    for path in sorted((REPO_ROOT / "knowledge" / "intents").rglob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            if row.get("lang") != LANG_CODE[lang] or (row.get("split", "train") == "train") != train:
                continue
            text = row["text"]
            if any(True for _ in find_names(text)) or any(True for _ in find_addresses(text)):
                continue
            if _shingles(text) & eval_shingles:
                continue
            out.append(text)
    return out


def _other(lang: str, slot: str, maker: _Maker, rng: random.Random, pool: list[str]) -> str:
    if slot == "MSG":
        return rng.choice(pool)
    if slot == "PRODUCT":
        return rng.choice(PRODUCTS)
    if slot == "SHOP":
        return rng.choice(SHOPS)
    if slot == "COMPANY":
        return maker.fake.company()
    if slot == "BIGCITY":
        return rng.choice(BIG_CITIES[lang])
    if slot == "ORDER":
        return rng.choice(["#", "", "no ", "SD-"]) + str(rng.randint(1000, 99999))
    if slot == "EMAIL":
        return maker.fake.email()
    if slot == "PHONE":
        return maker.fake.phone_number()
    if slot == "CARD":
        number = maker.fake.credit_card_number()
        return " ".join(number[i:i + 4] for i in range(0, len(number), 4)) if rng.random() < 0.6 else number
    if slot == "EXP":
        return maker.fake.credit_card_expire()
    if slot == "AMOUNT":
        value = f"{rng.randint(5, 2500)}{rng.choice(['.00', '.99', ',50', ''])}"
        return rng.choice([f"${value}", f"{value} $", f"{value} €", f"€{value}", f"{value} USD", f"MXN {value}"])
    if slot == "TRACKING":
        return rng.choice([f"1Z{rng.randint(10**15, 10**16 - 1):X}", f"RN{rng.randint(10**8, 10**9 - 1)}CA",
                           str(rng.randint(10**11, 10**12 - 1)), f"LX{rng.randint(10**8, 10**9 - 1)}ES"])
    if slot == "IBAN":
        return maker.fake.iban()
    if slot == "DATE":
        return maker.fake.date(pattern=rng.choice(["%B %d", "%d/%m/%Y", "%Y-%m-%d", "%d %B"]))
    raise KeyError(slot)


_SLOT = re.compile(r"\{([A-Z_]+)\}")


def fill(template: str, lang: str, maker: _Maker, rng: random.Random, pool: list[str]) -> dict:
    """One message from a shape: its text and its PERSON / ADDRESS spans (character offsets)."""
    lower = rng.random() < 0.15
    typos = rng.random() < 0.2
    parts: list[str] = []
    spans: list[list] = []
    pos = 0
    for k, chunk in enumerate(_SLOT.split(template)):
        if not chunk:
            continue
        slot = chunk if k % 2 else None  # split() puts the slot names at odd positions
        if slot is None:
            text = chunk
            if typos:
                text = " ".join(_typo(w, rng) if rng.random() < 0.15 else w for w in text.split(" "))
            label = None
        elif slot in ("NAME", "FIRST", "LAST"):
            text = maker.name() if slot == "NAME" else maker.first() if slot == "FIRST" else maker.last()
            label = PER
        elif slot in ("ADDR", "ADDR_ML", "STREET", "CITYLINE", "CITY"):
            text = (maker.address(multiline=slot == "ADDR_ML") if slot.startswith("ADDR") else
                    maker.street() if slot == "STREET" else maker.cityline() if slot == "CITYLINE" else maker.city())
            label = ADDR
        else:
            text = _other(lang, slot, maker, rng, pool)
            label = None
        if lower or (label and rng.random() < 0.08):
            text = text.lower()
        parts.append(text)
        if label:
            spans.append([pos, pos + len(text), label])
        pos += len(text)
    return {"text": "".join(parts), "lang": LANG_CODE[lang], "spans": spans}


def held_out(index: int) -> bool:
    """Every fifth shape of a language is kept for the check set and never trained on."""
    return index % 5 == 4


def generate(per_language: int, seed: int, dev: bool) -> list[dict]:
    out = []
    for lang, templates in TEMPLATES.items():
        shapes = [(i, t) for i, t in enumerate(templates) if held_out(i) == dev]
        makers = [_Maker(loc, seed + k) for k, loc in enumerate(LOCALES[lang])]
        rng = random.Random(seed)
        pool = utterances(lang, train=not dev)
        for n in range(per_language):
            index, template = shapes[n % len(shapes)]
            record = fill(template, lang, rng.choice(makers), rng, pool)
            record["shape"] = f"{lang}-{index}"
            out.append(record)
    return out


def write(path: Path, records: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for record in records:
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")


def main() -> int:
    write(OUT_DIR / "ner-train.jsonl", generate(5000, SEED_TRAIN, dev=False))
    write(OUT_DIR / "ner-dev.jsonl", generate(400, SEED_DEV, dev=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
