// fedstake dashboard: small progressive enhancement over server-rendered pages.
// Copy buttons, the rounds fragment polled so a round turning final shows without
// a reload, uPlot curves, and two checks made in the browser with keccak256
// (js-sha3): a claim's Merkle proof against the root, a model file against the chain.
(function () {
  "use strict";

  function copyButtons(root) {
    root.querySelectorAll("button[data-copy]").forEach(function (button) {
      button.addEventListener("click", function () {
        var text = button.getAttribute("data-copy");
        var done = function () { button.textContent = "copied"; };
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(text).then(done, function () { button.textContent = "select and copy"; });
        } else {
          button.textContent = "select and copy";
        }
      });
    });
  }

  function poll(element) {
    var url = element.getAttribute("data-poll");
    var interval = Number(document.body.getAttribute("data-poll-ms") || 1500);
    var tick = function () {
      fetch(url, { headers: { "Accept": "text/html" } }).then(function (response) {
        if (response.ok) { return response.text(); }
        throw new Error("HTTP " + response.status);
      }).then(function (html) {
        element.innerHTML = html;
        copyButtons(element);
        element.removeAttribute("data-stale");
      }).catch(function () {
        element.setAttribute("data-stale", "true");  // the node went away: keep the last view
      }).finally(function () { setTimeout(tick, interval); });
    };
    setTimeout(tick, interval);
  }

  function charts() {
    var data = document.getElementById("series");
    if (!data || typeof uPlot === "undefined") { return; }
    var series = JSON.parse(data.textContent);
    document.querySelectorAll("[data-chart]").forEach(function (element) {
      var key = element.getAttribute("data-chart");
      var width = Math.max(260, Math.min(element.clientWidth || 320, 560));
      new uPlot({
        width: width, height: 200,
        series: [{ label: "round" }, { label: element.getAttribute("data-label"), stroke: "#1f6feb", width: 2,
                   points: { size: 5 } }],
        axes: [{ label: "round" }, {}],
        scales: { x: { time: false } },
      }, [series.round, series[key]], element);
    });
  }

  function hexBytes(hex) {
    var clean = hex.replace(/^0x/, "");
    var out = new Uint8Array(clean.length / 2);
    for (var i = 0; i < out.length; i++) { out[i] = parseInt(clean.substr(i * 2, 2), 16); }
    return out;
  }

  function word(hex) { return hex.replace(/^0x/, "").toLowerCase().padStart(64, "0"); }

  // OpenZeppelin's leaf: keccak(keccak(abi.encode(address, uint256, uint256))); pairs hashed in ascending order
  function rewardLeaf(account, amount, rounds) {
    var encoded = word(account) + word(BigInt(amount).toString(16)) + word(BigInt(rounds).toString(16));
    return keccak256(hexBytes(keccak256(hexBytes(encoded))));
  }

  function checkProof(element) {
    var node = rewardLeaf(element.getAttribute("data-account"), element.getAttribute("data-amount"),
                          element.getAttribute("data-rounds"));
    JSON.parse(element.getAttribute("data-proof")).forEach(function (sibling) {
      var a = node, b = sibling.replace(/^0x/, "").toLowerCase();
      node = keccak256(hexBytes(a < b ? a + b : b + a));
    });
    var root = element.getAttribute("data-root").replace(/^0x/, "").toLowerCase();
    var ok = node === root;
    element.textContent = ok ? "valid: the proof leads to the root" : "invalid: the proof leads to 0x" + node;
    element.setAttribute("data-valid", ok ? "true" : "false");
  }

  function modelCheck(input) {
    var expected = document.getElementById("model-hash").getAttribute("data-hash").replace(/^0x/, "").toLowerCase();
    var verdict = document.getElementById("model-verdict");
    input.addEventListener("change", function () {
      var file = input.files[0];
      if (!file) { verdict.textContent = "no file chosen"; return; }
      file.arrayBuffer().then(function (buffer) {
        var actual = keccak256(new Uint8Array(buffer));
        var ok = actual === expected;
        verdict.textContent = ok ? "match: " + file.name + " is the model on chain (0x" + actual + ")"
                                 : "no match: " + file.name + " hashes to 0x" + actual;
        verdict.setAttribute("data-match", ok ? "true" : "false");
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    copyButtons(document);
    document.querySelectorAll("[data-poll]").forEach(poll);
    charts();
    var proof = document.getElementById("proof-check");
    if (proof) { checkProof(proof); }
    var file = document.getElementById("model-file");
    if (file) { modelCheck(file); }
  });
})();
