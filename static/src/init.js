// Starts GOV.UK Frontend's components. Loaded as an ES module from a file (never inline), so the
// Content Security Policy needs no extra nonce. The component texts come from a JSON block the
// layout renders in the reader's language (base.html, id "app-govuk-i18n").
import { initAll } from "../govuk/govuk-frontend.min.js";

function componentTexts() {
  const block = document.getElementById("app-govuk-i18n");
  if (!block) {
    return {};
  }
  try {
    return JSON.parse(block.textContent);
  } catch (error) {
    console.error("The GOV.UK Frontend texts could not be read", error);
    return {};
  }
}

const texts = componentTexts();
const config = {};
for (const [component, i18n] of Object.entries(texts)) {
  config[component] = { i18n };
}
initAll(config);

// "Print this page" buttons (guides) stay hidden until this script can make them work; without JavaScript the
// page says how to print instead.
for (const button of document.querySelectorAll("[data-module='app-print-page']")) {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
}
