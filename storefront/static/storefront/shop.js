// Demo storefront: search, facets, search by photo, product page with similar items. Everything comes from
// the public JSON API (/api/v1/...); no framework, no CDN.
(function () {
  "use strict";

  var API = "/api/v1/";
  var PAGE_SIZE = 24;
  var FILTER_KEYS = ["category", "brand", "color", "size", "price_min", "price_max", "rating_min", "in_stock"];
  var COLORS = { black: "#222", white: "#fff", gray: "#8a8f98", grey: "#8a8f98", blue: "#2f6fd6", red: "#d23a3a",
    green: "#2f9e5b", yellow: "#f2c94c", orange: "#f08a3c", purple: "#8e5bd6", pink: "#f48fb1", brown: "#8d5b3a",
    beige: "#e8dcc0", lavender: "#c7b8ea", olive: "#7b8b3a" };

  // --- small helpers ---------------------------------------------------------------------------------------

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") node.textContent = attrs[key];
      else if (key === "className") node.className = attrs[key];
      else node.setAttribute(key, attrs[key]);
    });
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
    return node;
  }

  // Catalog texts may carry HTML entities ("CoolTech&trade;"): shown as the characters they stand for. A
  // textarea decodes without running or loading anything, and the result is only ever set as text.
  var decoder = document.createElement("textarea");
  function text(value) {
    decoder.innerHTML = value || "";
    return decoder.value;
  }

  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

  function cookie(name) {
    var match = document.cookie.match(new RegExp("(?:^|; )" + name + "=([^;]*)"));
    return match ? decodeURIComponent(match[1]) : "";
  }

  function getJSON(path, params) {
    var query = params ? "?" + params.toString() : "";
    return fetch(API + path + query, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        return response.json().then(function (body) {
          if (!response.ok) throw new Error(body.detail || ("HTTP " + response.status));
          return body;
        });
      });
  }

  function post(path, body, params) {
    var headers = { "Accept": "application/json", "X-CSRFToken": cookie("csrftoken") };
    if (!(body instanceof FormData)) { headers["Content-Type"] = "application/json"; body = JSON.stringify(body); }
    var query = params ? "?" + params.toString() : "";
    return fetch(API + path + query, { method: "POST", body: body, headers: headers, credentials: "same-origin",
      keepalive: !(body instanceof FormData) })
      .then(function (response) {
        return response.json().then(function (data) {
          if (!response.ok) throw new Error(data.detail || JSON.stringify(data));
          return data;
        });
      });
  }

  function money(price, currency) {
    if (price === null || price === undefined) return "";
    try { return new Intl.NumberFormat("en-US", { style: "currency", currency: currency || "USD" }).format(+price); }
    catch (e) { return "$" + (+price).toFixed(2); }
  }

  function stars(rating) {
    if (!rating || !rating.count) return null;
    var full = Math.round(rating.average);
    return el("span", { className: "stars", title: rating.average.toFixed(1) + " out of 5" }, [
      document.createTextNode("★★★★★".slice(0, full) + "☆☆☆☆☆".slice(0, 5 - full)),
      el("span", { className: "n", text: "(" + rating.count + ")" })
    ]);
  }

  function toast(message) {
    var node = document.getElementById("toast");
    node.textContent = message;
    node.classList.add("show");
    setTimeout(function () { node.classList.remove("show"); }, 2200);
  }

  function cartCount(delta) {
    var count = (+sessionStorage.getItem("cart") || 0) + (delta || 0);
    sessionStorage.setItem("cart", count);
    document.getElementById("cart-count").textContent = count;
  }

  function sendEvent(type, searchId, sku, position) {
    if (!searchId) return;
    var body = { search_id: searchId, type: type, sku: sku };
    if (position) body.position = position;
    post("events", body).catch(function () { /* analytics must never break shopping */ });
  }

  function card(product, options) {
    var href = "/products/" + encodeURIComponent(product.sku) + "/";
    if (options.searchId) href += "?sid=" + encodeURIComponent(options.searchId) + "&pos=" + options.position;
    var photo = product.photo_url
      ? el("img", { src: product.photo_url, alt: text(product.name), loading: "lazy" })
      : el("span", { className: "no-photo", text: "No photo" });
    var link = el("a", { className: "card", href: href, "data-sku": product.sku }, [
      el("div", { className: "card-photo" }, [photo]),
      el("div", { className: "card-body" }, [
        product.brand ? el("span", { className: "card-brand", text: product.brand }) : null,
        el("span", { className: "card-name", text: text(product.name) }),
        stars(product.rating),
        el("span", { className: "card-price", text: money(product.price, product.currency) }),
        product.in_stock === false ? el("span", { className: "card-stock out", text: "Out of stock" }) : null
      ])
    ]);
    link.addEventListener("click", function () {
      sendEvent("click", options.searchId, product.sku, options.position);
    });
    return link;
  }

  // --- the search page -------------------------------------------------------------------------------------

  function searchPage() {
    var params = new URLSearchParams(window.location.search);
    var photo = null; // the File of a photo search, kept while facets are clicked
    var input = document.getElementById("search-input");
    input.value = params.get("q") || "";
    cartCount(0);

    document.getElementById("search-form").addEventListener("submit", function (event) {
      event.preventDefault();
      var next = new URLSearchParams();
      if (input.value.trim()) next.set("q", input.value.trim());
      photo = null;
      navigate(next);
    });
    document.getElementById("photo-input").addEventListener("change", function (event) {
      if (!event.target.files.length) return;
      photo = event.target.files[0];
      var next = new URLSearchParams(params);
      next.delete("page");
      navigate(next);
      event.target.value = "";
    });
    document.getElementById("photo-clear").addEventListener("click", function () { photo = null; run(); });
    window.addEventListener("popstate", function () { params = new URLSearchParams(window.location.search); run(); });

    function navigate(next) {
      params = next;
      history.pushState(null, "", "/" + (next.toString() ? "?" + next.toString() : ""));
      run();
    }

    function withFilter(updates) {
      var next = new URLSearchParams(params);
      Object.keys(updates).forEach(function (key) {
        if (updates[key] === null) next.delete(key); else next.set(key, updates[key]);
      });
      next.delete("page");
      return next;
    }

    function run() {
      var grid = document.getElementById("products");
      grid.classList.add("loading");
      var request = params.toString() ? new URLSearchParams(params) : new URLSearchParams();
      request.set("page_size", PAGE_SIZE);
      var done;
      if (photo) {
        var form = new FormData();
        form.append("image", photo);
        done = post("search/image", form, request);
      } else {
        done = getJSON("search", request);
      }
      done.then(render).catch(function (error) {
        clear(grid);
        grid.appendChild(el("div", { className: "empty", text: "Search is not available right now (" + error.message + ")." }));
      }).then(function () { grid.classList.remove("loading"); });
    }

    function render(data) {
      var q = params.get("q") || "";
      var photoBox = document.getElementById("photo-query");
      photoBox.hidden = !photo;
      if (photo) document.getElementById("photo-preview").src = URL.createObjectURL(photo);
      document.getElementById("results-title").textContent =
        photo ? (q ? "Like your photo: “" + q + "”" : "Like your photo") :
        q ? "Results for “" + q + "”" : (params.get("category") || "All products").split("/").join(" › ");
      document.getElementById("result-count").textContent = data.total + " product" + (data.total === 1 ? "" : "s");
      document.getElementById("corrected").textContent = data.corrected_query ? "· showing results for “" + data.corrected_query + "”" : "";
      input.value = q;

      var grid = document.getElementById("products");
      clear(grid);
      var offset = (data.page - 1) * data.page_size;
      data.results.forEach(function (product, index) {
        grid.appendChild(card(product, { searchId: data.search_id, position: offset + index + 1 }));
      });
      if (!data.results.length) grid.appendChild(el("div", { className: "empty", text: "Nothing found. Try fewer filters or other words." }));
      renderFacets(data.facets || {});
      renderActive();
      renderPager(data);
    }

    function facetLink(label, count, updates, selected, swatch) {
      var link = el("a", { href: "/?" + withFilter(updates).toString(), className: selected ? "selected" : "" }, [
        el("span", { className: "facet-label" }, [
          swatch ? el("span", { className: "swatch", style: "background:" + swatch }) : null,
          document.createTextNode(label)
        ]),
        el("span", { className: "count", text: String(count) })
      ]);
      link.addEventListener("click", function (event) { event.preventDefault(); navigate(withFilter(updates)); });
      return el("li", {}, [link]);
    }

    function facetBox(title, name, items) {
      if (!items.length) return null;
      return el("div", { className: "facet", "data-facet": name }, [el("h3", { text: title }), el("ul", {}, items)]);
    }

    function renderFacets(facets) {
      var box = document.getElementById("facets");
      clear(box);
      var category = params.get("category") || "";
      var depth = category ? category.split("/").length : 0;
      var categories = (facets.category || []).filter(function (f) {
        var parts = f.value.split("/");
        return parts.length === depth + 1 && (!category || f.value.indexOf(category + "/") === 0);
      }).map(function (f) {
        return facetLink(f.value.split("/").pop(), f.count, { category: f.value }, false);
      });
      if (category) {
        var up = category.split("/").slice(0, -1).join("/");
        categories.unshift(facetLink("‹ " + (up ? up.split("/").pop() : "All categories"), "", { category: up || null }, false));
      }
      box.appendChild(facetBox("Category", "category", categories) || el("span"));
      var simple = [["Brand", "brand"], ["Color", "color"], ["Size", "size"]];
      simple.forEach(function (pair) {
        var items = (facets[pair[1]] || []).slice(0, 12).map(function (f) {
          var selected = params.get(pair[1]) === f.value;
          var update = {}; update[pair[1]] = selected ? null : f.value;
          var swatch = pair[1] === "color" ? (COLORS[f.value.toLowerCase()] || "#ccc") : null;
          return facetLink(f.value, f.count, update, selected, swatch);
        });
        var node = facetBox(pair[0], pair[1], items);
        if (node) box.appendChild(node);
      });
      var prices = (facets.price || []).map(function (f) {
        var bounds = f.value.split("-");
        var label = bounds[1] ? "$" + bounds[0] + " – $" + bounds[1] : "$" + bounds[0] + " and up";
        var selected = params.get("price_min") === bounds[0] && (params.get("price_max") || "") === bounds[1];
        return facetLink(label, f.count, selected ? { price_min: null, price_max: null } :
          { price_min: bounds[0], price_max: bounds[1] || null }, selected);
      });
      var priceBox = facetBox("Price", "price", prices);
      if (priceBox) box.appendChild(priceBox);
      var ratings = (facets.rating || []).map(function (f) {
        var selected = params.get("rating_min") === f.value;
        return facetLink(f.value + "★ & up", f.count, { rating_min: selected ? null : f.value }, selected);
      });
      var ratingBox = facetBox("Rating", "rating", ratings);
      if (ratingBox) box.appendChild(ratingBox);
      var stock = params.get("in_stock") === "true";
      box.appendChild(el("div", { className: "facet", "data-facet": "in_stock" }, [el("ul", {}, [
        facetLink(stock ? "✓ In stock only" : "In stock only", "", { in_stock: stock ? null : "true" }, stock)
      ])]));
    }

    function renderActive() {
      var box = document.getElementById("active-filters");
      clear(box);
      FILTER_KEYS.forEach(function (key) {
        if (!params.get(key)) return;
        var update = {}; update[key] = null;
        var chip = el("a", { className: "chip", href: "/?" + withFilter(update).toString(), "data-filter": key }, [
          document.createTextNode(key.replace("_", " ") + ": "), el("span", { text: params.get(key) }),
          el("span", { className: "chip-clear", text: "×" })
        ]);
        chip.addEventListener("click", function (event) { event.preventDefault(); navigate(withFilter(update)); });
        box.appendChild(chip);
      });
    }

    function renderPager(data) {
      var box = document.getElementById("pager");
      clear(box);
      var pages = Math.ceil(data.total / data.page_size);
      if (pages <= 1) return;
      var prev = el("button", { type: "button", text: "‹ Previous" });
      var next = el("button", { type: "button", text: "Next ›" });
      prev.disabled = data.page <= 1;
      next.disabled = data.page >= pages;
      prev.addEventListener("click", function () { go(data.page - 1); });
      next.addEventListener("click", function () { go(data.page + 1); });
      box.appendChild(prev);
      box.appendChild(el("span", { text: "Page " + data.page + " of " + pages }));
      box.appendChild(next);
      function go(page) { var n = new URLSearchParams(params); n.set("page", page); navigate(n); window.scrollTo(0, 0); }
    }

    run();
  }

  // --- the product page ------------------------------------------------------------------------------------

  function productPage() {
    var article = document.getElementById("product");
    var sku = article.getAttribute("data-sku");
    var here = new URLSearchParams(window.location.search);
    cartCount(0);
    document.getElementById("search-form").addEventListener("submit", function (event) {
      event.preventDefault();
      var q = document.getElementById("search-input").value.trim();
      window.location.href = "/" + (q ? "?q=" + encodeURIComponent(q) : "");
    });
    document.getElementById("photo-input").addEventListener("change", function () {
      toast("Photo search starts from the home page");
    });

    getJSON("products/" + encodeURIComponent(sku)).then(function (product) {
      document.title = text(product.name) + " · " + document.title.split(" · ").pop();
      document.getElementById("product-name").textContent = text(product.name);
      document.getElementById("product-brand").textContent = product.brand || "";
      document.getElementById("product-price").textContent = money(product.price, product.currency);
      var stock = document.getElementById("product-stock");
      stock.textContent = product.in_stock ? "In stock" : "Out of stock";
      stock.className = "stock " + (product.in_stock ? "in" : "out");
      var rating = stars({ average: +product.rating_average, count: product.rating_count });
      if (rating) document.getElementById("product-rating").appendChild(rating);
      document.getElementById("product-description").textContent = text(product.description);
      var crumbs = document.getElementById("crumbs");
      var path = [];
      (product.category || "").split("/").filter(Boolean).forEach(function (part) {
        path.push(part);
        crumbs.appendChild(document.createTextNode(" › "));
        crumbs.appendChild(el("a", { href: "/?category=" + encodeURIComponent(path.join("/")), text: part }));
      });
      var main = document.getElementById("gallery-main");
      var thumbs = document.getElementById("gallery-thumbs");
      (product.images || []).forEach(function (image, index) {
        var thumb = el("img", { src: image.url, alt: "Photo " + (index + 1), className: index === 0 ? "current" : "" });
        thumb.addEventListener("click", function () {
          main.src = image.url;
          Array.prototype.forEach.call(thumbs.children, function (t) { t.className = ""; });
          thumb.className = "current";
        });
        thumbs.appendChild(thumb);
      });
      if (product.images && product.images.length) { main.src = product.images[0].url; main.alt = text(product.name); }
      var options = {};
      (product.variants || []).forEach(function (variant) {
        Object.keys(variant.attributes || {}).forEach(function (name) {
          options[name] = options[name] || [];
          if (options[name].indexOf(String(variant.attributes[name])) < 0) options[name].push(String(variant.attributes[name]));
        });
      });
      var box = document.getElementById("product-options");
      Object.keys(options).forEach(function (name) {
        box.appendChild(el("div", {}, [el("strong", { text: name.charAt(0).toUpperCase() + name.slice(1) }),
          el("div", { className: "option-values" }, options[name].map(function (v) { return el("span", { text: v }); }))]));
      });
      var dl = document.getElementById("product-attributes");
      Object.keys(product.attributes || {}).forEach(function (name) {
        var value = product.attributes[name];
        dl.appendChild(el("dt", { text: name }));
        dl.appendChild(el("dd", { text: Array.isArray(value) ? value.join(", ") : String(value) }));
      });
    }).catch(function (error) {
      document.getElementById("product-name").textContent = "Product not found";
      document.getElementById("product-description").textContent = error.message;
    });

    document.getElementById("add-to-cart").addEventListener("click", function () {
      sendEvent("add_to_cart", here.get("sid"), sku, +here.get("pos") || null);
      cartCount(1);
      toast("Added to your cart");
    });

    getJSON("products/" + encodeURIComponent(sku) + "/similar", new URLSearchParams({ k: "8" })).then(function (data) {
      var grid = document.getElementById("similar");
      clear(grid);
      data.results.forEach(function (product, index) { grid.appendChild(card(product, { position: index + 1 })); });
      if (!data.results.length) grid.appendChild(el("div", { className: "empty", text: "No similar items yet." }));
    }).catch(function () {
      document.getElementById("similar-section").hidden = true;
    });
  }

  if (document.getElementById("product")) productPage();
  else if (document.getElementById("products")) searchPage();
})();
