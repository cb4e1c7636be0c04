(function () {
  'use strict';
  var dataEl = document.getElementById('tcpmortem-data');
  var data = dataEl ? JSON.parse(dataEl.textContent || '{}') : {};
  var hidden = document.querySelectorAll('.js-only');
  for (var i = 0; i < hidden.length; i++) hidden[i].hidden = false;

  function copyText(text, button) {
    function done(ok) {
      var old = button.textContent;
      button.textContent = ok ? 'Copied' : 'Select and copy';
      setTimeout(function () { button.textContent = old; }, 1400);
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { done(true); }, function () { done(fallback(text)); });
    } else done(fallback(text));
  }
  function fallback(text) {
    var area = document.createElement('textarea');
    area.value = text;
    area.setAttribute('readonly', '');
    area.style.position = 'fixed';
    area.style.opacity = '0';
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
    document.body.removeChild(area);
    return ok;
  }
  var buttons = document.querySelectorAll('button[data-copy-finding]');
  for (var b = 0; b < buttons.length; b++) {
    buttons[b].addEventListener('click', function (ev) {
      var btn = ev.currentTarget;
      var f = (data.findings || [])[Number(btn.getAttribute('data-copy-finding'))];
      if (f) copyText(f.wiresharkFilter, btn);
    });
  }

  var table = document.getElementById('conn-table');
  if (!table) return;
  var tbody = table.tBodies[0];
  var rows = Array.prototype.slice.call(tbody.rows);
  var stateSel = document.getElementById('f-state');
  var findingSel = document.getElementById('f-finding');
  var endpointIn = document.getElementById('f-endpoint');
  var countEl = document.getElementById('f-count');
  function applyFilter() {
    var st = stateSel.value, fi = findingSel.value, ep = endpointIn.value.trim().toLowerCase();
    var shown = 0;
    for (var r = 0; r < rows.length; r++) {
      var row = rows[r];
      var ok = (!st || (' ' + row.getAttribute('data-states') + ' ').indexOf(' ' + st + ' ') >= 0) &&
        (!fi || (' ' + row.getAttribute('data-findings') + ' ').indexOf(' ' + fi + ' ') >= 0) &&
        (!ep || row.getAttribute('data-endpoints').toLowerCase().indexOf(ep) >= 0);
      row.hidden = !ok;
      if (ok) shown++;
    }
    countEl.textContent = shown + ' of ' + rows.length + ' rows shown';
  }
  stateSel.addEventListener('change', applyFilter);
  findingSel.addEventListener('change', applyFilter);
  endpointIn.addEventListener('input', applyFilter);
  applyFilter();

  var heads = table.tHead.rows[0].cells;
  var sortCol = -1, sortDir = 1;
  for (var h = 0; h < heads.length; h++) {
    heads[h].addEventListener('click', (function (col) {
      return function () {
        sortDir = sortCol === col ? -sortDir : 1;
        sortCol = col;
        var numeric = heads[col].getAttribute('data-type') === 'num';
        rows.sort(function (a, b) {
          var x = a.cells[col].getAttribute('data-v') || a.cells[col].textContent;
          var y = b.cells[col].getAttribute('data-v') || b.cells[col].textContent;
          var d = numeric ? Number(x) - Number(y) : (x < y ? -1 : x > y ? 1 : 0);
          return d * sortDir || Number(a.getAttribute('data-id')) - Number(b.getAttribute('data-id'));
        });
        for (var i = 0; i < rows.length; i++) tbody.appendChild(rows[i]);
        for (var k = 0; k < heads.length; k++) heads[k].removeAttribute('aria-sort');
        heads[col].setAttribute('aria-sort', sortDir > 0 ? 'ascending' : 'descending');
      };
    })(h));
  }
})();
