// Starts Swagger UI from local files (the Content-Security-Policy forbids inline scripts).
window.addEventListener("DOMContentLoaded", function () {
  window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true });
});
