(function () {
  var AUDIT = JSON.parse(document.getElementById('audit-id').textContent);
  var KEY = 'mkt-audit-' + AUDIT;
  function items() { return Array.prototype.slice.call(document.querySelectorAll('section.item')); }
  function collect() {
    return {audit_id: AUDIT, decisions: items().map(function (s) {
      var c = s.querySelector('input[type=radio]:checked');
      return {id: s.dataset.id, decision: c ? c.value : null, note: s.querySelector('textarea').value.trim()};
    })};
  }
  function progress() {
    var d = collect().decisions, done = d.filter(function (x) { return x.decision; }).length;
    document.getElementById('progress').textContent = done + ' of ' + d.length + ' decided';
    try { localStorage.setItem(KEY, JSON.stringify(collect())); } catch (e) {}
  }
  try {
    var saved = JSON.parse(localStorage.getItem(KEY) || 'null');
    if (saved) saved.decisions.forEach(function (d) {
      items().forEach(function (s) {
        if (s.dataset.id !== d.id) return;
        s.querySelectorAll('input[type=radio]').forEach(function (r) { r.checked = r.value === d.decision; });
        s.querySelector('textarea').value = d.note || '';
      });
    });
  } catch (e) {}
  document.addEventListener('change', progress);
  document.addEventListener('input', progress);
  document.getElementById('download').addEventListener('click', function () {
    var blob = new Blob([JSON.stringify(collect(), null, 2)], {type: 'application/json'});
    var a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = 'decisions-' + AUDIT + '.json';
    document.body.appendChild(a);
    a.click();
    a.remove();
  });
  progress();
})();
