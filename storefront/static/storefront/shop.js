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

  // Catalog texts come from the API as clean text (entities unescaped, tags stripped at import): set as text.
  function text(value) {
    return value || "";
  }
  // Facets a shop that set nothing shows (the API says which, and their labels: facet_labels).
  var DEFAULT_FACETS = [{ name: "category", label: "Category" }, { name: "brand", label: "Brand" },
    { name: "color", label: "Color" }, { name: "size", label: "Size" }, { name: "price", label: "Price" },
    { name: "rating", label: "Rating" }];

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

    // The sort control keeps the query and filters; relevance is the default and stays out of the URL.
    var sortSelect = document.getElementById("sort-select");
    sortSelect.addEventListener("change", function () {
      navigate(withFilter({ sort: sortSelect.value === "relevance" ? null : sortSelect.value }));
    });

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
      if (data.redirect) { window.location.assign(data.redirect); return; }  // a query rule sends the shopper there
      var q = params.get("q") || "";
      sortSelect.value = params.get("sort") || "relevance";
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
      facetLabels = data.facet_labels || DEFAULT_FACETS;
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

    // The facets the shop shows, in its order and with its labels (the API's facet_labels).
    var facetLabels = DEFAULT_FACETS;

    function renderFacets(facets) {
      var box = document.getElementById("facets");
      clear(box);
      facetLabels.forEach(function (facet) {
        var node = facet.name === "category" ? categoryFacet(facets.category || [], facet.label) :
          facet.name === "price" ? priceFacet(facets.price || [], facet.label) :
          facet.name === "rating" ? ratingFacet(facets.rating || [], facet.label) :
          valueFacet(facet.name, facet.label, facets[facet.name] || []);
        if (node) box.appendChild(node);
      });
      var stock = params.get("in_stock") === "true";
      box.appendChild(el("div", { className: "facet", "data-facet": "in_stock" }, [el("ul", {}, [
        facetLink(stock ? "✓ In stock only" : "In stock only", "", { in_stock: stock ? null : "true" }, stock)
      ])]));
    }

    function categoryFacet(values, title) {
      var category = params.get("category") || "";
      var depth = category ? category.split("/").length : 0;
      var categories = values.filter(function (f) {
        var parts = f.value.split("/");
        return parts.length === depth + 1 && (!category || f.value.indexOf(category + "/") === 0);
      }).map(function (f) {
        return facetLink(f.value.split("/").pop(), f.count, { category: f.value }, false);
      });
      if (category) {
        var up = category.split("/").slice(0, -1).join("/");
        categories.unshift(facetLink("‹ " + (up ? up.split("/").pop() : "All categories"), "", { category: up || null }, false));
      }
      return facetBox(title, "category", categories);
    }

    function valueFacet(name, title, values) {
      var items = values.slice(0, 12).map(function (f) {
        var selected = params.get(name) === f.value;
        var update = {}; update[name] = selected ? null : f.value;
        var swatch = name === "color" ? (COLORS[f.value.toLowerCase()] || "#ccc") : null;
        return facetLink(f.value, f.count, update, selected, swatch);
      });
      return facetBox(title, name, items);
    }

    function priceFacet(values, title) {
      var prices = values.map(function (f) {
        var bounds = f.value.split("-");
        var label = bounds[1] ? "$" + bounds[0] + " – $" + bounds[1] : "$" + bounds[0] + " and up";
        var selected = params.get("price_min") === bounds[0] && (params.get("price_max") || "") === bounds[1];
        return facetLink(label, f.count, selected ? { price_min: null, price_max: null } :
          { price_min: bounds[0], price_max: bounds[1] || null }, selected);
      });
      return facetBox(title, "price", prices);
    }

    function ratingFacet(values, title) {
      var ratings = values.map(function (f) {
        var selected = params.get("rating_min") === f.value;
        return facetLink(f.value + "★ & up", f.count, { rating_min: selected ? null : f.value }, selected);
      });
      return facetBox(title, "rating", ratings);
    }

    function renderActive() {
      var box = document.getElementById("active-filters");
      clear(box);
      var labels = {};
      facetLabels.forEach(function (facet) { labels[facet.name] = facet.label; });
      var keys = FILTER_KEYS.concat(facetLabels.map(function (facet) { return facet.name; }).filter(function (name) {
        return FILTER_KEYS.indexOf(name) < 0 && ["price", "rating"].indexOf(name) < 0;
      }));
      keys.forEach(function (key) {
        if (!params.get(key)) return;
        var update = {}; update[key] = null;
        var chip = el("a", { className: "chip", href: "/?" + withFilter(update).toString(), "data-filter": key }, [
          document.createTextNode((labels[key] || key.replace("_", " ")) + ": "), el("span", { text: params.get(key) }),
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
      var labels = product.attribute_labels || {};
      Object.keys(options).forEach(function (name) {
        box.appendChild(el("div", {}, [el("strong", { text: labels[name] || name }),
          el("div", { className: "option-values" }, options[name].map(function (v) { return el("span", { text: v }); }))]));
      });
      var dl = document.getElementById("product-attributes");
      // the shop's labels, in its order (attribute_list); the raw keys stay on the elements
      (product.attribute_list || []).forEach(function (item) {
        var value = item.value;
        dl.appendChild(el("dt", { text: item.label, "data-attribute": item.name }));
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

  // --- autocomplete under the search box (both pages) -----------------------------------------------------
  // GET /api/v1/suggest as the shopper types (debounced; an answer to an older text is dropped). Up/down move
  // through the completions and products, Enter picks the highlighted one (or searches what was typed), Escape
  // closes. A completion runs its search (a category browses it), a product opens its page.

  var SUGGEST_DELAY_MS = 120;
  var SUGGEST_MAX_LENGTH = 100;

  function suggestBox() {
    var form = document.getElementById("search-form");
    var input = document.getElementById("search-input");
    if (!form || !input) return;
    var box = el("div", { className: "suggest", id: "suggest", role: "listbox", "aria-label": "Suggestions" });
    box.hidden = true;
    form.appendChild(box);
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-controls", "suggest");
    input.setAttribute("aria-expanded", "false");
    var items = [];
    var active = -1;
    var timer = null;
    var asked = 0;

    function close() {
      box.hidden = true;
      clear(box);
      items = [];
      active = -1;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
    }

    function highlight(index) {
      items.forEach(function (item, i) {
        item.node.classList.toggle("active", i === index);
        item.node.setAttribute("aria-selected", i === index ? "true" : "false");
      });
      active = index;
      if (index >= 0) {
        input.setAttribute("aria-activedescendant", items[index].node.id);
        items[index].node.scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    }

    function choose(item) {
      close();
      if (item.product) {
        window.location.href = "/products/" + encodeURIComponent(item.product.sku) + "/";
      } else if (item.suggestion.kind === "category" && item.suggestion.category) {
        window.location.href = "/?category=" + encodeURIComponent(item.suggestion.category);
      } else {
        input.value = item.suggestion.text;
        if (form.requestSubmit) form.requestSubmit(); else form.dispatchEvent(new Event("submit", { cancelable: true }));
      }
    }

    // The suggestion with what was typed in plain weight and the rest in bold, where it starts with it.
    function label(textValue, typed) {
      var node = el("span", { className: "suggest-text" });
      var start = textValue.toLowerCase().indexOf(typed.toLowerCase());
      if (typed && start === 0) {
        node.appendChild(document.createTextNode(textValue.slice(0, typed.length)));
        node.appendChild(el("strong", { text: textValue.slice(typed.length) }));
      } else {
        node.appendChild(el("strong", { text: textValue }));
      }
      return node;
    }

    function render(data, typed) {
      clear(box);
      items = [];
      active = -1;
      data.suggestions.forEach(function (suggestion) {
        var parent = (suggestion.category || "").split("/").slice(0, -1).join(" › ");
        var hint = suggestion.kind === "category" ? (parent ? "category in " + parent : "category") :
          suggestion.kind === "query" ? "popular search" : "";
        var node = el("div", { className: "suggest-item", role: "option", "data-kind": suggestion.kind,
          id: "suggest-" + items.length }, [
          el("span", { className: "suggest-icon", text: suggestion.kind === "category" ? "▦" : "⌕", "aria-hidden": "true" }),
          label(suggestion.text, typed.trim()),
          hint ? el("span", { className: "suggest-hint", text: hint }) : null
        ]);
        items.push({ node: node, suggestion: suggestion });
      });
      data.products.forEach(function (product) {
        var photo = product.photo_url ? el("img", { src: product.photo_url, alt: "" }) : el("span", { className: "no-photo" });
        var node = el("div", { className: "suggest-product", role: "option", "data-sku": product.sku,
          id: "suggest-" + items.length }, [
          photo,
          el("span", { className: "suggest-product-name", text: text(product.name) }),
          el("span", { className: "suggest-product-price", text: money(product.price, product.currency) })
        ]);
        items.push({ node: node, product: product });
      });
      if (!items.length) { close(); return; }
      var products = items.filter(function (item) { return item.product; });
      items.forEach(function (item, index) {
        if (item.product && item === products[0]) box.appendChild(el("div", { className: "suggest-heading", text: "Products" }));
        item.node.addEventListener("mousedown", function (event) { event.preventDefault(); choose(item); });
        item.node.addEventListener("mousemove", function () { if (active !== index) highlight(index); });
        box.appendChild(item.node);
      });
      box.hidden = false;
      input.setAttribute("aria-expanded", "true");
    }

    function ask() {
      var typed = input.value;
      var ticket = ++asked;
      if (!typed.trim() || typed.length > SUGGEST_MAX_LENGTH) { close(); return; }
      getJSON("suggest", new URLSearchParams({ q: typed, limit: "8", products: "4" })).then(function (data) {
        if (ticket === asked && input.value === typed && document.activeElement === input) render(data, typed);
      }).catch(function () { if (ticket === asked) close(); });  // no suggestions is never an error to show
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(ask, SUGGEST_DELAY_MS);
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { if (!box.hidden) { event.preventDefault(); asked++; close(); } return; }
      if (box.hidden || !items.length) return;
      if (event.key === "ArrowDown") { event.preventDefault(); highlight(active + 1 < items.length ? active + 1 : 0); }
      else if (event.key === "ArrowUp") { event.preventDefault(); highlight(active > 0 ? active - 1 : items.length - 1); }
      else if (event.key === "Enter" && active >= 0) { event.preventDefault(); choose(items[active]); }
    });
    input.addEventListener("blur", function () { asked++; close(); });
    form.addEventListener("submit", function () { clearTimeout(timer); asked++; close(); });
  }

  suggestBox();

  if (document.getElementById("product")) productPage();
  else if (document.getElementById("products")) searchPage();
})();
