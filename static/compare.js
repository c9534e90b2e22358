/* The comparison page: "previous change" and "next change" move from the change in view to
   the one before or after it (keys p and n too), and the bar says which change is shown.
   Without JavaScript the same links go to the first change and each change links to its
   neighbours. */
(function () {
  var nav = document.querySelector(".change-nav");
  if (!nav) { return; }
  var changes = Array.prototype.slice.call(document.querySelectorAll("[id^='c']"))
    .filter(function (el) { return /^c\d+$/.test(el.id); })
    .sort(function (x, y) { return Number(x.id.slice(1)) - Number(y.id.slice(1)); });
  if (!changes.length) { return; }
  var where = nav.querySelector(".where");
  var label = where.textContent;
  var current = -1;
  function show(i) {
    current = Math.max(0, Math.min(changes.length - 1, i));
    var el = changes[current];
    el.scrollIntoView({ block: "center" });
    changes.forEach(function (c) { c.classList.remove("current-change"); });
    el.classList.add("current-change");
    if (window.history && window.history.replaceState) {
      window.history.replaceState(null, "", "#" + el.id);
    }
    where.textContent = (current + 1) + " / " + changes.length + " · " + label;
  }
  function inView() {
    // the first change at or below the sticky bar
    var top = nav.getBoundingClientRect().bottom;
    for (var i = 0; i < changes.length; i++) {
      if (changes[i].getBoundingClientRect().top >= top - 2) { return i; }
    }
    return changes.length;
  }
  nav.querySelector(".next-change").addEventListener("click", function (e) {
    e.preventDefault();
    var here = inView();
    show(current >= 0 && current >= here - 1 ? current + 1 : here);
  });
  nav.querySelector(".prev-change").addEventListener("click", function (e) {
    e.preventDefault();
    var here = inView();
    show(current >= 0 && current <= here ? current - 1 : here - 1);
  });
  document.addEventListener("keydown", function (e) {
    var t = e.target && e.target.tagName;
    if (t === "INPUT" || t === "TEXTAREA" || t === "SELECT" || e.ctrlKey || e.metaKey || e.altKey) { return; }
    if (e.key === "n" || e.key === "j") { nav.querySelector(".next-change").click(); }
    if (e.key === "p" || e.key === "k") { nav.querySelector(".prev-change").click(); }
  });
  var m = /^#c(\d+)$/.exec(window.location.hash);
  if (m) { show(Number(m[1]) - 1); }
})();
