// The card form of a top-up's page: Stripe.js turns the card into a token (the card never reaches Mecene),
// Mecene charges it, and Stripe.js runs 3-D Secure when the bank asks for it. The wallet is credited by
// Stripe's signed webhook, never by this script: once the payment is under way the page only reloads.
(function () {
  "use strict";
  var form = document.getElementById("card-form");
  if (!form || typeof Stripe !== "function") {
    return;
  }
  var stripe = Stripe(form.dataset.key);
  var card = stripe.elements().create("card");
  var status = document.getElementById("card-status");
  var button = document.getElementById("pay-button");
  // What the script says, in the page's language: written by the server into the form's data attributes.
  var words = form.dataset;
  card.mount("#card-element");

  function say(text) {
    status.textContent = text;
    button.disabled = false;
  }

  async function charge(token) {
    var body = new URLSearchParams({csrf: form.dataset.csrf, token: token});
    var answer = await fetch(form.action, {method: "POST", body: body, headers: {Accept: "application/json"},
                                           credentials: "same-origin"});
    var outcome = await answer.json();
    if (!answer.ok) {
      throw new Error(outcome.reason || words.notStarted);
    }
    return outcome;
  }

  async function authenticate(outcome) {
    var done = await stripe.confirmCardPayment(outcome.client_secret);
    if (done.error) {
      throw new Error(done.error.message || words.notConfirmed);
    }
    if (done.paymentIntent && done.paymentIntent.status === "requires_payment_method") {
      throw new Error(words.notAuthenticated);
    }
  }

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    button.disabled = true;
    status.textContent = words.paying;
    try {
      var made = await stripe.createToken(card);
      if (made.error) {
        throw new Error(made.error.message || words.unreadable);
      }
      var outcome = await charge(made.token.id);
      if (outcome.state === "failed") {
        throw new Error(outcome.message);
      }
      if (outcome.state === "needs_action") {
        await authenticate(outcome);
      }
      status.textContent = words.waiting;
      window.location.reload();
    } catch (error) {
      say(error.message);
    }
  });
})();
