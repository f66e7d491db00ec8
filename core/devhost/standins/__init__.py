"""Local stand-ins for the vendor APIs the integrations call: the Shopify Admin REST subset ``ShopifyShopData`` reads
(``shopify_admin``) and the Zendesk Support tickets API ``ZendeskTicketDesk`` writes (``zendesk_support``). With
``SHOPIFY_API_URL`` / ``ZENDESK_API_URL`` pointed at them, ``SHOP_DATA=shopify`` and ``TICKET_DESK=zendesk`` run
the production adapters (the same httpx client, retries and pagination) against a shop's own exported files."""
