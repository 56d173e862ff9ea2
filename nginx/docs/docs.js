// AgentPlatform API docs: the Swagger UI settings of /api/v1/docs (loaded by index.html).
// The description is this origin's /api/v1/openapi.json. "Try it out" calls this same origin
// (the page's Content-Security-Policy allows no other): a request for the document's server
// (public_base_url) under another host name, e.g. localhost for 127.0.0.1, is sent here instead.
// "Authorize" takes an API key (the bearer scheme bearerAuth); persistAuthorization keeps it in
// this browser's localStorage until "Logout".
"use strict";

window.addEventListener("load", function () {
  // The standalone layout without its top bar: no box to load another URL's description.
  var HideTopbar = function () {
    return { components: { Topbar: function () { return null; } } };
  };
  window.ui = SwaggerUIBundle({
    url: "/api/v1/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    persistAuthorization: true,
    tryItOutEnabled: true,
    displayOperationId: true,
    displayRequestDuration: true,
    docExpansion: "list",
    defaultModelsExpandDepth: 0,
    showExtensions: true,
    requestInterceptor: function (req) {
      var u = new URL(req.url, window.location.href);
      if (u.origin !== window.location.origin) {
        req.url = window.location.origin + u.pathname + u.search;
      }
      return req;
    },
    // Offline: no badge from the public validator service.
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    plugins: [SwaggerUIBundle.plugins.DownloadUrl, HideTopbar],
    layout: "StandaloneLayout"
  });
});
