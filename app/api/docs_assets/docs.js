// Renders the REST reference with Swagger UI (served from node_modules) into #rest.
const section = document.getElementById("rest");
window.SwaggerUIBundle({
  url: section.dataset.openapiUrl,
  domNode: section,
  deepLinking: true,
  docExpansion: "list",
  defaultModelsExpandDepth: 0,
});
