/* A form that failed is answered at the address it was posted to; show the page's own address
   instead, so that reloading or bookmarking it does not post the form again. */
(function () {
  var script = document.currentScript;
  var url = script && script.getAttribute("data-page-url");
  if (url && window.history && window.history.replaceState) {
    window.history.replaceState(null, "", url);
  }
})();
