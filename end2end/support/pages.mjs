// Every kind of page a visitor reaches on the demo marketplace, found through the links on them.

/** The paths of the home page, a search, a product, its union's dashboard and join page, the
 * personal pages, the seller's page, the editor and a missing page. */
export async function everyPage(page) {
  // Found by a search: products other tests list may push it past the home page's first page.
  await page.goto("/?q=commuter");
  const product = await page.getByRole("link", { name: "Commuter journeys" }).getAttribute("href");
  await page.goto(product);
  const union = await page.getByRole("link", { name: "Its dashboard: members, revenue, joining" }).getAttribute("href");
  const join = `/join${union.slice("/unions".length)}`;
  return ["/", "/?q=weather", product, union, join, "/earnings", "/purchases", "/sell", "/products/new", "/no/such/page"];
}
