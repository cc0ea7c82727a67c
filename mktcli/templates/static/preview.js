(function () {
  "use strict";
  var selects = Array.prototype.slice.call(document.querySelectorAll("select[data-filter]"));
  var cards = Array.prototype.slice.call(document.querySelectorAll(".creative"));
  function matches(card, key, want) {
    if (!want) { return true; }
    if (key !== "status") { return card.getAttribute("data-" + key) === want; }
    if (want.indexOf("reg:") === 0) { return (card.getAttribute("data-registry") || "none") === want.slice(4); }
    var st = card.getAttribute("data-status");
    return want === "ready" ? st !== "blocked" : st === want;
  }
  function apply() {
    var shown = 0, state = [];
    selects.forEach(function (s) {
      if (s.value) { state.push(s.getAttribute("data-filter") + "=" + encodeURIComponent(s.value)); }
    });
    cards.forEach(function (card) {
      var ok = selects.every(function (s) { return matches(card, s.getAttribute("data-filter"), s.value); });
      card.hidden = !ok;
      if (ok) { shown += 1; }
    });
    Array.prototype.forEach.call(document.querySelectorAll(".segment, .bundle"), function (g) {
      var any = g.querySelectorAll(".creative").length;
      g.hidden = any > 0 && g.querySelectorAll(".creative:not([hidden])").length === 0;
    });
    document.getElementById("shown").textContent = String(shown);
    try { history.replaceState(null, "", state.length ? "#" + state.join("&") : location.pathname); } catch (e) {}
  }
  function restore() {
    location.hash.slice(1).split("&").forEach(function (kv) {
      var i = kv.indexOf("="), key, val;
      if (i < 0) { return; }
      key = kv.slice(0, i);
      try { val = decodeURIComponent(kv.slice(i + 1)); } catch (e) { return; }
      selects.forEach(function (s) {
        var known = Array.prototype.some.call(s.options, function (o) { return o.value === val; });
        if (s.getAttribute("data-filter") === key && known) { s.value = val; }
      });
    });
  }
  selects.forEach(function (s) { s.addEventListener("change", apply); });
  restore();
  apply();
})();
