// WGS-84 → GCJ-02 (the datum of Chinese web maps), the published approximation used by every open implementation
// (eviltransform, coordtransform). Only applied when the configured base map is GCJ-02; outside China it is the
// identity. Exposed as window.QiaomenGcj02 = { fromWgs84(lon, lat) → [lon, lat], geojson(obj) }.
(function () {
  "use strict";
  const A = 6378245.0;
  const EE = 0.00669342162296594323;

  function outOfChina(lon, lat) {
    return lon < 72.004 || lon > 137.8347 || lat < 0.8293 || lat > 55.8271;
  }
  function tLat(x, y) {
    let r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
    r += (20.0 * Math.sin(6.0 * x * Math.PI) + 20.0 * Math.sin(2.0 * x * Math.PI)) * 2.0 / 3.0;
    r += (20.0 * Math.sin(y * Math.PI) + 40.0 * Math.sin(y / 3.0 * Math.PI)) * 2.0 / 3.0;
    r += (160.0 * Math.sin(y / 12.0 * Math.PI) + 320 * Math.sin(y * Math.PI / 30.0)) * 2.0 / 3.0;
    return r;
  }
  function tLon(x, y) {
    let r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
    r += (20.0 * Math.sin(6.0 * x * Math.PI) + 20.0 * Math.sin(2.0 * x * Math.PI)) * 2.0 / 3.0;
    r += (20.0 * Math.sin(x * Math.PI) + 40.0 * Math.sin(x / 3.0 * Math.PI)) * 2.0 / 3.0;
    r += (150.0 * Math.sin(x / 12.0 * Math.PI) + 300.0 * Math.sin(x / 30.0 * Math.PI)) * 2.0 / 3.0;
    return r;
  }
  function fromWgs84(lon, lat) {
    if (outOfChina(lon, lat)) return [lon, lat];
    let dLat = tLat(lon - 105.0, lat - 35.0);
    let dLon = tLon(lon - 105.0, lat - 35.0);
    const radLat = lat / 180.0 * Math.PI;
    let magic = Math.sin(radLat);
    magic = 1 - EE * magic * magic;
    const sqrtMagic = Math.sqrt(magic);
    dLat = (dLat * 180.0) / ((A * (1 - EE)) / (magic * sqrtMagic) * Math.PI);
    dLon = (dLon * 180.0) / (A / sqrtMagic * Math.cos(radLat) * Math.PI);
    return [lon + dLon, lat + dLat];
  }
  function coords(c) {
    return typeof c[0] === "number" ? fromWgs84(c[0], c[1]) : c.map(coords);
  }
  function geojson(obj) {
    if (!obj) return obj;
    if (obj.type === "FeatureCollection") obj.features.forEach(geojson);
    else if (obj.type === "Feature") geojson(obj.geometry);
    else if (obj.type === "GeometryCollection") obj.geometries.forEach(geojson);
    else if (obj.coordinates) obj.coordinates = coords(obj.coordinates);
    return obj;
  }
  window.QiaomenGcj02 = { fromWgs84, geojson };
})();
