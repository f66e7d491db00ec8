/* Swagger UI over the app's own OpenAPI description (served from the app, no CDN). */
window.addEventListener("load", function () {
  window.ui = window.SwaggerUIBundle({ url: "/api/openapi.json", dom_id: "#swagger-ui", deepLinking: true });
});
