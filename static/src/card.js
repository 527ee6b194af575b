// The card page's glue to Stripe.js (templates/holder/card_new.html). Loaded from a file with the page's CSP
// nonce, after Stripe.js (Stripe's own, or localstripe's stand-in in development).
//
// Stripe.js takes the card details straight to Stripe and confirms the SetupIntent; this script then puts the
// PaymentMethod id in the form and posts it (with its CSRF token) to our server, which asks Stripe about the card
// before saving it. Without JavaScript, or if Stripe.js did not load, the form stays hidden and the page's
// message (call the council) stays shown.
(function () {
  "use strict";

  var configBlock = document.getElementById("app-card-config");
  var form = document.getElementById("app-card-form");
  if (!configBlock || !form || typeof window.Stripe !== "function") {
    return;
  }
  var config = JSON.parse(configBlock.textContent);
  var mountPoint = document.getElementById("app-card-element");
  var button = document.getElementById("save-card");
  var errorBox = document.getElementById("app-card-error");
  var errorText = document.getElementById("app-card-error-text");
  var group = document.getElementById("app-card-group");

  var stripe = window.Stripe(config.publishableKey);
  var elements = stripe.elements({ locale: config.locale === "cy" ? "en-GB" : config.locale });
  var card = elements.create("card", { hidePostalCode: true });
  card.mount(mountPoint);
  labelPlainInputs();

  document.getElementById("app-card-no-js").hidden = true;
  form.hidden = false;

  // Stripe's own element lives in an iframe with its own labels. localstripe's stand-in adds bare inputs to the
  // page: name them, so the page stays accessible in development and tests too.
  function labelPlainInputs() {
    var inputs = mountPoint.querySelectorAll("input:not([aria-label])");
    for (var i = 0; i < inputs.length; i++) {
      var name = inputs[i].getAttribute("placeholder") || "";
      inputs[i].setAttribute("aria-label", config.labels[name] || name);
      inputs[i].setAttribute("autocomplete", "off");
    }
  }

  function showError(message) {
    errorText.textContent = message;
    errorBox.hidden = false;
    group.classList.add("govuk-form-group--error");
    mountPoint.focus();
  }

  function messageFor(error) {
    var code = (error && (error.decline_code || error.code)) || "card_declined";
    return config.messages[code] || config.messages.card_declined;
  }

  form.addEventListener("submit", function (event) {
    if (form.elements.payment_method_id.value) {
      return; // confirmed with Stripe already: post it
    }
    event.preventDefault();
    button.disabled = true;
    button.setAttribute("aria-disabled", "true");
    stripe.confirmCardSetup(config.clientSecret, { payment_method: { card: card } }).then(function (result) {
      if (result.error) {
        button.disabled = false;
        button.removeAttribute("aria-disabled");
        showError(messageFor(result.error));
        return;
      }
      var paymentMethod = result.setupIntent.payment_method;
      form.elements.payment_method_id.value = typeof paymentMethod === "string" ? paymentMethod : paymentMethod.id;
      form.submit();
    });
  });
})();
