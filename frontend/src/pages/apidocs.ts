/**
 * The API reference at /docs: Swagger UI served from our own build, because the page's CSP
 * (script-src 'self', no inline script) rules out the CDN copy FastAPI's default page loads.
 */
import SwaggerUIBundle from "swagger-ui-dist/swagger-ui-bundle.js";
import "swagger-ui-dist/swagger-ui.css";
import "../styles/base.css";

SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  persistAuthorization: false,
});
