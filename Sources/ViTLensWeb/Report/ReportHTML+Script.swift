extension ReportHTML {
    /// The page's script: explorers (layer slider, head buttons, arrow keys, grid clicks), head
    /// views (layer slider, head toggles, token hover) and the explanations' method buttons. It only swaps pictures and toggles elements
    /// the page already holds; without it everything stays visible as grids.
    static let script = """
    (function () {
      "use strict";
      document.documentElement.classList.add("js");

      function explorer(section, box) {
        var slider = box.querySelector(".layer-slider");
        var value = box.querySelector(".layer-value");
        var caption = box.querySelector(".caption");
        var view = box.querySelector(".ov img.heat, .mx-img img");
        var buttons = Array.prototype.slice.call(box.querySelectorAll(".head-buttons button"));
        var layers = +section.dataset.layers, heads = +section.dataset.heads;
        var state = { layer: +box.dataset.layer, head: +box.dataset.head };
        function cell(layer, head) {
          return section.querySelector('table.grid img[data-layer="' + layer + '"][data-head="' + head + '"]');
        }
        function show() {
          var source = cell(state.layer, state.head);
          if (!source || !view) return;
          view.src = source.src;
          view.title = source.title;
          view.alt = source.alt;
          caption.textContent = source.title;
          slider.value = state.layer;
          value.textContent = state.layer;
          box.dataset.layer = state.layer;
          box.dataset.head = state.head;
          buttons.forEach(function (b) { b.classList.toggle("active", +b.dataset.head === state.head); });
          section.querySelectorAll("table.grid td.current").forEach(function (td) { td.classList.remove("current"); });
          var td = source.closest("td");
          if (td) td.classList.add("current");
        }
        slider.addEventListener("input", function () { state.layer = +slider.value; show(); });
        buttons.forEach(function (b) {
          b.addEventListener("click", function () { state.head = +b.dataset.head; show(); });
        });
        box.addEventListener("keydown", function (e) {
          var moved = true;
          if (e.key === "ArrowLeft") state.head = (state.head + heads) % (heads + 1);
          else if (e.key === "ArrowRight") state.head = (state.head + 1) % (heads + 1);
          else if (e.key === "ArrowUp") state.layer = Math.min(layers - 1, state.layer + 1);
          else if (e.key === "ArrowDown") state.layer = Math.max(0, state.layer - 1);
          else moved = false;
          if (moved) { e.preventDefault(); show(); }
        });
        section.querySelectorAll("table.grid img").forEach(function (img) {
          img.addEventListener("click", function () {
            state.layer = +img.dataset.layer;
            state.head = +img.dataset.head;
            show();
            box.scrollIntoView({ block: "nearest" });
            box.focus({ preventScroll: true });
          });
        });
        show();
      }

      function headView(box) {
        var slider = box.querySelector(".hv-layer-slider");
        var value = box.querySelector(".layer-value");
        var layers = Array.prototype.slice.call(box.querySelectorAll(".hv-layer"));
        function showLayer(layer) {
          layers.forEach(function (d) { d.classList.toggle("active", +d.dataset.layer === layer); });
          value.textContent = layer;
          box.dataset.layer = layer;
        }
        slider.addEventListener("input", function () { showLayer(+slider.value); });
        box.querySelectorAll(".hv-toggles input").forEach(function (input) {
          input.addEventListener("change", function () {
            box.querySelectorAll('g.hv-head[data-head="' + input.dataset.head + '"]').forEach(function (g) {
              g.style.display = input.checked ? "" : "none";
            });
          });
        });
        function isolate(token) {
          var svg = token.closest("svg");
          var key = token.classList.contains("hv-q") ? "query" : "key";
          var index = token.dataset.index;
          svg.querySelectorAll("line").forEach(function (line) {
            line.style.display = line.dataset[key] === index ? "" : "none";
          });
          svg.dataset.focus = key + " " + index;
        }
        function reset(svg) {
          svg.querySelectorAll("line").forEach(function (line) { line.style.display = ""; });
          delete svg.dataset.focus;
        }
        box.addEventListener("mouseover", function (e) {
          var token = e.target.closest ? e.target.closest(".hv-token") : null;
          if (token) isolate(token);
        });
        box.addEventListener("mouseout", function (e) {
          var token = e.target.closest ? e.target.closest(".hv-token") : null;
          if (token) reset(token.closest("svg"));
        });
      }

      function methodSwitcher(box) {
        var buttons = Array.prototype.slice.call(box.querySelectorAll(".method-buttons button"));
        function show(method) {
          box.dataset.method = method;
          box.querySelectorAll(".ex-method").forEach(function (f) { f.classList.toggle("active", f.dataset.method === method); });
          buttons.forEach(function (b) {
            var on = b.dataset.method === method;
            b.classList.toggle("active", on);
            b.setAttribute("aria-pressed", on ? "true" : "false");
          });
        }
        buttons.forEach(function (b) {
          b.addEventListener("click", function () { show(b.dataset.method); });
        });
      }

      document.querySelectorAll("section.input").forEach(function (section) {
        section.querySelectorAll(".explorer").forEach(function (box) { explorer(section, box); });
        section.querySelectorAll(".headview").forEach(headView);
        section.querySelectorAll(".explain").forEach(methodSwitcher);
      });
    })();
    """
}
