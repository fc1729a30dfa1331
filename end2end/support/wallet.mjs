// A test wallet injected into the page: an EIP-1193 provider announced through EIP-6963. The page
// side only forwards requests to Node; Node answers wallet methods itself and passes the rest to
// anvil, whose unlocked development accounts sign with anvil's well-known test keys. Tests steer it
// (reject the next signature, switch account or chain) the way a person would in a real wallet.

const PAGE_SIDE = () => {
  const listeners = new Map();
  const provider = {
    isCoopTestWallet: true,
    async request({ method, params }) {
      const answer = JSON.parse(await window.__coopWalletRequest(JSON.stringify({ method, params: params ?? [] })));
      if (answer.error) {
        const error = new Error(answer.error.message);
        error.code = answer.error.code;
        if (answer.error.data !== undefined) error.data = answer.error.data;
        throw error;
      }
      return answer.result;
    },
    on(event, listener) {
      if (!listeners.has(event)) listeners.set(event, new Set());
      listeners.get(event).add(listener);
      return provider;
    },
    removeListener(event, listener) {
      listeners.get(event)?.delete(listener);
      return provider;
    },
  };
  window.__coopWalletEmit = (event, payload) => {
    for (const listener of listeners.get(event) ?? []) listener(payload);
  };
  const info = Object.freeze({
    uuid: "6f1c1f0e-5b8e-4c52-9d5e-2d1f0c0ffee0",
    name: "Coop Test Wallet",
    icon: "data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciIHZpZXdCb3g9IjAgMCAxIDEiLz4=",
    rdns: "org.coop.testwallet",
  });
  const announce = () =>
    window.dispatchEvent(new CustomEvent("eip6963:announceProvider", { detail: Object.freeze({ info, provider }) }));
  window.addEventListener("eip6963:requestProvider", announce);
  announce();
};

const USER_REJECTED = { code: 4001, message: "User rejected the request." };
const SIGNING_METHODS = new Set(["eth_requestAccounts", "personal_sign", "eth_signTypedData_v4", "eth_sendTransaction"]);

export class TestWallet {
  /** @param {import('@playwright/test').Page} page @param {string} chainUrl */
  static async install(page, chainUrl) {
    const wallet = new TestWallet(page, chainUrl);
    wallet.accounts = await wallet.#rpc("eth_accounts", []);
    wallet.chainId = wallet.realChainId = await wallet.#rpc("eth_chainId", []);
    await page.exposeFunction("__coopWalletRequest", async (json) => JSON.stringify(await wallet.#handle(JSON.parse(json))));
    await page.addInitScript(PAGE_SIDE);
    return wallet;
  }

  constructor(page, chainUrl) {
    this.page = page;
    this.chainUrl = chainUrl;
    this.selected = 0;
    this.connected = false;
    this.rejections = [];
    this.requests = [];
    this.hooks = [];
    this.sent = [];
  }

  /** Runs `action` (which may change the chain) when the page next asks for `method`, before the
   * wallet answers: as if something happened while the person looked at the wallet's prompt. */
  beforeNext(method, action) {
    this.hooks.push({ method, action });
  }

  get address() {
    return this.accounts[this.selected];
  }

  /** The next request of this method (or any signing request) is rejected as a person would. */
  rejectNext(method = "any") {
    this.rejections.push(method);
  }

  async useAccount(index) {
    this.selected = index;
    if (this.connected) await this.#emit("accountsChanged", [this.address]);
  }

  /** Pretends the wallet is on another chain (as hex id), as when the person switched networks. */
  async useChain(chainIdHex) {
    this.chainId = chainIdHex;
    await this.#emit("chainChanged", chainIdHex);
  }

  async #handle({ method, params }) {
    this.requests.push(method);
    const rejection = this.rejections.findIndex((m) => m === method || (m === "any" && SIGNING_METHODS.has(method)));
    if (rejection >= 0) {
      this.rejections.splice(rejection, 1);
      return { error: USER_REJECTED };
    }
    const hook = this.hooks.findIndex((h) => h.method === method);
    if (hook >= 0) await this.hooks.splice(hook, 1)[0].action(params);
    switch (method) {
      case "eth_requestAccounts":
        this.connected = true;
        return { result: [this.address] };
      case "eth_accounts":
        return { result: this.connected ? [this.address] : [] };
      case "eth_chainId":
        return { result: this.chainId };
      case "wallet_switchEthereumChain":
      case "wallet_addEthereumChain": {
        const wanted = params[0]?.chainId?.toLowerCase();
        if (wanted !== this.realChainId.toLowerCase()) {
          return { error: { code: 4902, message: `Unrecognized chain ID "${wanted}".` } };
        }
        await this.useChain(wanted);
        return { result: null };
      }
      case "wallet_revokePermissions":
        this.connected = false;
        await this.#emit("accountsChanged", []);
        return { result: null };
      default:
        if (!this.connected && SIGNING_METHODS.has(method)) {
          return { error: { code: 4100, message: "The requested account has not been authorized." } };
        }
        try {
          const result = await this.#rpc(method, params);
          if (method === "eth_sendTransaction") this.sent.push(result);
          return { result };
        } catch (error) {
          return { error: { code: error.code ?? -32603, message: error.message, data: error.data } };
        }
    }
  }

  async #emit(event, payload) {
    await this.page.evaluate(([e, p]) => window.__coopWalletEmit?.(e, p), [event, payload]);
  }

  async #rpc(method, params) {
    const response = await fetch(this.chainUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
    });
    const body = await response.json();
    if (body.error) throw Object.assign(new Error(body.error.message), body.error);
    return body.result;
  }
}
