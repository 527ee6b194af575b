// The 3-D Secure page's glue to Stripe.js (templates/holder/order_authenticate.html). Loaded from a file with the
// page's CSP nonce, after Stripe.js (Stripe's own, or localstripe's stand-in in development).
//
// "Continue" opens the bank's check for the order's PaymentIntent (Stripe.js confirmCardPayment with its client
// secret); when the check ends, however it ends, the form is posted so our server asks Stripe what happened and
// moves the order on. Without JavaScript the page's message (call the council) stays shown and "Continue" only
// asks the server to check again.
(function () {
  "use strict";

  var configBlock = document.getElementById("app-authenticate-config");
  var form = document.getElementById("app-authenticate-form");
  if (!configBlock || !form || typeof window.Stripe !== "function") {
    return;
  }
  var config = JSON.parse(configBlock.textContent);
  var status = document.getElementById("app-authenticate-status");
  var button = document.getElementById("authenticate-continue");
  var stripe = window.Stripe(config.publishableKey);
  var started = false;

  document.getElementById("app-authenticate-no-js").hidden = true;

  form.addEventListener("submit", function (event) {
    if (started) {
      return; // the bank's check has ended: let the form go
    }
    event.preventDefault();
    started = true;
    button.disabled = true;
    status.textContent = config.checking;
    var finish = function () {
      form.submit();
    };
    stripe.confirmCardPayment(config.clientSecret).then(finish, finish);
  });
})();
