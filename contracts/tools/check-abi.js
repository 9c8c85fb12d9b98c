#!/usr/bin/env node
// Compares the compiled ABI in out/ with the interface of the reference Infernet SDK
// (selectors, argument and return types, mutability, event topics with indexed flags,
// custom errors). Run after `forge build`; exits non-zero on any difference.
'use strict';

const fs = require('fs');
const path = require('path');
const { keccak256 } = require('js-sha3');

const SUB = '(address,uint32,uint32,uint32,uint16,bytes32,bool,address,uint256,address,address)';

// Each function: [selector, signature, outputs, mutability] with mutability v = view/pure,
// n = nonpayable, p = payable.
const OWNABLE = [
  ['0x8da5cb5b', 'owner()', '(address)', 'v'],
  ['0xf2fde38b', 'transferOwnership(address)', '()', 'p'],
  ['0x715018a6', 'renounceOwnership()', '()', 'p'],
  ['0x25692962', 'requestOwnershipHandover()', '()', 'p'],
  ['0x54d1f13d', 'cancelOwnershipHandover()', '()', 'p'],
  ['0xf04e283e', 'completeOwnershipHandover(address)', '()', 'p'],
  ['0xfee81cf4', 'ownershipHandoverExpiresAt(address)', '(uint256)', 'v'],
];
const OWNABLE_EVENTS = [
  ['0x8be0079c531659141344cd1fd0a4f28419497f9722a3daafe3b4186f6b6457e0', 'OwnershipTransferred(address indexed,address indexed)'],
  ['0xdbf36a107da19e49527a7176a1babf963b4b0ff8cde35ee35d6cd8f1f9ac7e1d', 'OwnershipHandoverRequested(address indexed)'],
  ['0xfa7b8eab7da67f412cc9575ed43464468f9bfbae89d1675917346ca6d8fe3c92', 'OwnershipHandoverCanceled(address indexed)'],
];
const OWNABLE_ERRORS = [
  ['0x82b42900', 'Unauthorized()'],
  ['0x7448fbae', 'NewOwnerIsZeroAddress()'],
  ['0x6f5e8818', 'NoHandoverRequest()'],
  ['0x0dc149f0', 'AlreadyInitialized()'],
];

const COORDINATOR_FUNCTIONS = [
  ['0xaf640d0f', 'id()', '(uint32)', 'v'],
  ['0x298f7bdc', 'nodeResponded(bytes32)', '(bool)', 'v'],
  ['0xbc85694f', 'redundancyCount(bytes32)', '(uint16)', 'v'],
  ['0xc34cf5c7', 'proofRequests(bytes32)', '(uint32,address,uint256)', 'v'],
  ['0xa17b920b', 'getSubscription(uint32)', `(${SUB})`, 'v'],
  ['0x84050893', 'createSubscription(string,uint32,uint32,uint16,bool,address,uint256,address,address)', '(uint32)', 'n'],
  ['0x31e451a9', 'cancelSubscription(uint32)', '()', 'n'],
  ['0x836a6cc9', 'getSubscriptionInterval(uint32,uint32)', '(uint32)', 'v'],
  ['0xc509543d', 'deliverCompute(uint32,uint32,bytes,bytes,bytes,address)', '()', 'n'],
  ['0x196ab123', 'finalizeProofVerification(uint32,uint32,address,bool)', '()', 'n'],
];
const COORDINATOR_EVENTS = [
  ['0x04344ed7a67fec80c444d56ee1cee242f3f75b91fecc8dbce8890069c82eb48e', 'SubscriptionCreated(uint32 indexed)'],
  ['0xf4126e31c182db4c4109605c6d50470fc7e8ca90d62d44fd25cbe049fb9cac3e', 'SubscriptionCancelled(uint32 indexed)'],
  ['0xc68fb0ae5cea2793405d29014d881bcda18f67122e0bcd7d0a577e118b64e4c8', 'SubscriptionFulfilled(uint32 indexed,address indexed)'],
  ['0xaf1556610075709bf885e17681512d329b1a40f799ee5196f79461e89b656454', 'ProofVerified(uint32 indexed,uint32 indexed,address indexed,bool,address,bool)'],
];
const COORDINATOR_ERRORS = [
  ['0x23455ba1', 'InvalidWallet()'],
  ['0x4db310c3', 'IntervalMismatch()'],
  ['0x2f4ca85b', 'IntervalCompleted()'],
  ['0xb9857aa1', 'UnauthorizedVerifier()'],
  ['0x88a21e4f', 'NodeRespondedAlready()'],
  ['0x1a00354f', 'SubscriptionNotFound()'],
  ['0x1d68b37c', 'ProofRequestNotFound()'],
  ['0xa7fba711', 'NotSubscriptionOwner()'],
  ['0xae6704a7', 'SubscriptionCompleted()'],
  ['0xefb74efe', 'SubscriptionNotActive()'],
  ['0xe2372799', 'UnsupportedVerifierToken()'],
  ['0xab143c06', 'Reentrancy()'],
];
// Additions over the reference (see README.md, "Differences from the reference").
const COORDINATOR_ADDED_ERRORS = [['0x1f6a65b6', 'InvalidSubscription()']];

const EIP712_FUNCTIONS = [
  ['0xeccec5a8', 'EIP712_VERSION()', '(string)', 'v'],
  ['0x3b2fb7a8', 'EIP712_NAME()', '(string)', 'v'],
  ['0x7fb61b27', 'maxSubscriberNonce(address)', '(uint32)', 'v'],
  ['0x60ed0f61', 'delegateCreatedIds(bytes32)', '(uint32)', 'v'],
  ['0x9c092514', `createSubscriptionDelegatee(uint32,uint32,${SUB},uint8,bytes32,bytes32)`, '(uint32)', 'n'],
  ['0x9fff314a', `deliverComputeDelegatee(uint32,uint32,${SUB},uint8,bytes32,bytes32,uint32,bytes,bytes,bytes,address)`, '()', 'n'],
  ['0x84b0196e', 'eip712Domain()', '(bytes1,string,string,uint256,address,bytes32,uint256[])', 'v'],
];
const EIP712_ERRORS = [
  ['0x10c74b03', 'SignerMismatch()'],
  ['0x0819bdcd', 'SignatureExpired()'],
];

const CONSUMER_FUNCTIONS = [
  ['0x7a411a8d', 'rawReceiveCompute(uint32,uint32,uint16,address,bytes,bytes,bytes,bytes32,uint256)', '()', 'n'],
  ['0x962fad75', 'getContainerInputs(uint32,uint32,uint32,address)', '(bytes)', 'v'],
];
const NOT_COORDINATOR = [['0x9ec853e6', 'NotCoordinator()']];

const INBOX_ITEM = '(uint32,uint32,uint32,bytes,bytes,bytes)';

const EXPECTED = {
  'EIP712Coordinator.sol/EIP712Coordinator.json': {
    functions: [...COORDINATOR_FUNCTIONS, ...EIP712_FUNCTIONS],
    events: COORDINATOR_EVENTS,
    errors: [...COORDINATOR_ERRORS, ...EIP712_ERRORS],
    addedErrors: COORDINATOR_ADDED_ERRORS,
  },
  'Coordinator.sol/Coordinator.json': {
    functions: COORDINATOR_FUNCTIONS,
    events: COORDINATOR_EVENTS,
    errors: COORDINATOR_ERRORS,
    addedErrors: COORDINATOR_ADDED_ERRORS,
  },
  'Inbox.sol/Inbox.json': {
    functions: [
      ['0x198896dd', 'write(bytes32,bytes,bytes,bytes)', '(uint256)', 'n'],
      ['0x76a87949', 'writeViaCoordinator(bytes32,address,uint32,uint32,bytes,bytes,bytes)', '(uint256)', 'n'],
      ['0x586a6094', 'read(bytes32,address,uint256)', `(${INBOX_ITEM})`, 'v'],
      ['0x93eaef1f', 'items(bytes32,address,uint256)', INBOX_ITEM, 'v'],
    ],
    events: [['0xac56b74ea9119b4c4e424d8ed4c3cec0c84d1f6b02200df5a8cd27eb756994d1', 'NewInboxItem(bytes32 indexed,address indexed,uint256)']],
    errors: NOT_COORDINATOR,
  },
  'Reader.sol/Reader.json': {
    functions: [
      ['0x3ddc29f5', 'readSubscriptionBatch(uint32,uint32)', `(${SUB}[])`, 'v'],
      ['0x757f1c84', 'readRedundancyCountBatch(uint32[],uint32[])', '(uint16[])', 'v'],
    ],
    events: [],
    errors: [],
  },
  'Registry.sol/Registry.json': {
    functions: [
      ['0x3b2bcbf1', 'COORDINATOR()', '(address)', 'v'],
      ['0xb7010697', 'INBOX()', '(address)', 'v'],
      ['0x698eec44', 'READER()', '(address)', 'v'],
      ['0xc57981b5', 'FEE()', '(address)', 'v'],
      ['0x0e2009f4', 'WALLET_FACTORY()', '(address)', 'v'],
    ],
    events: [],
    errors: [],
  },
  'Fee.sol/Fee.json': {
    functions: [
      ['0xc57981b5', 'FEE()', '(uint16)', 'v'],
      ['0x2c6cda93', 'updateFee(uint16)', '()', 'n'],
      ['0xebd09054', 'FEE_RECIPIENT()', '(address)', 'v'],
      ...OWNABLE,
    ],
    events: OWNABLE_EVENTS,
    addedEvents: [['0x' + keccak256('FeeUpdated(uint16)'), 'FeeUpdated(uint16)']],
    errors: OWNABLE_ERRORS,
    addedErrors: [['0x' + keccak256('FeeTooHigh()').slice(0, 8), 'FeeTooHigh()']],
  },
  'Wallet.sol/Wallet.json': {
    functions: [
      ['0xdd62ed3e', 'allowance(address,address)', '(uint256)', 'v'],
      ['0xf3fef3a3', 'withdraw(address,uint256)', '()', 'n'],
      ['0xe1f21c67', 'approve(address,address,uint256)', '()', 'n'],
      ['0x0d67cfd9', 'cTransfer(address,address,address,uint256)', '()', 'n'],
      ['0xd0729347', 'cLock(address,address,uint256)', '()', 'n'],
      ['0xc7048369', 'cUnlock(address,address,uint256)', '()', 'n'],
      ...OWNABLE,
    ],
    events: [
      ['0x65ac0d8bb8cbc0e989ebd02ddc5161d7c499f7c21792e43fcf170314fe6bcc3f', 'Withdrawl(address,uint256)'],
      ['0x8c5be1e5ebec7d5bd14f71427d1e84f3dd0314c0f7b2291e5b200ac8c7c3b925', 'Approval(address indexed,address,uint256)'],
      ['0x813582499997f00ba0142c7813740a6e381df71a63d11d8c8f208f66b7795d26', 'Escrow(address indexed,address,uint256,bool)'],
      ['0xd1398bee19313d6bf672ccb116e51f4a1a947e91c757907f51fbb5b5e56c698f', 'Transfer(address indexed,address,address indexed,uint256)'],
      ...OWNABLE_EVENTS,
    ],
    errors: [
      ['0x356680b7', 'InsufficientFunds()'],
      ['0x13be252b', 'InsufficientAllowance()'],
      ...NOT_COORDINATOR,
      ...OWNABLE_ERRORS,
    ],
    receive: true,
  },
  'WalletFactory.sol/WalletFactory.json': {
    functions: [
      ['0xb054a9e8', 'createWallet(address)', '(address)', 'n'],
      ['0x439a3012', 'isValidWallet(address)', '(bool)', 'v'],
    ],
    events: [['0xca0b7dde26052d34217ef1a0cee48085a07ca32da0a918609937a307d496bbf5', 'WalletCreated(address indexed,address indexed,address)']],
    errors: [],
  },
  'IVerifier.sol/IVerifier.json': {
    functions: [
      ['0x13299604', 'getWallet()', '(address)', 'v'],
      ['0x240028e8', 'isSupportedToken(address)', '(bool)', 'v'],
      ['0x6fcca69b', 'fee(address)', '(uint256)', 'v'],
      ['0x81e79a90', 'requestProofVerification(uint32,uint32,address,bytes)', '()', 'n'],
    ],
    events: [],
    errors: [],
    receive: true,
  },
  'Base.sol/BaseConsumer.json': { functions: CONSUMER_FUNCTIONS, events: [], errors: NOT_COORDINATOR },
  'Callback.sol/CallbackConsumer.json': { functions: CONSUMER_FUNCTIONS, events: [], errors: NOT_COORDINATOR },
  'Subscription.sol/SubscriptionConsumer.json': { functions: CONSUMER_FUNCTIONS, events: [], errors: NOT_COORDINATOR },
  'Allowlist.sol/Allowlist.json': {
    functions: [['0xa136e529', 'isAllowedNode(address)', '(bool)', 'v']],
    events: [],
    errors: [['0x42764946', 'NodeNotAllowed()']],
  },
  'Delegator.sol/Delegator.json': {
    functions: [['0x7ac3c02f', 'getSigner()', '(address)', 'v']],
    events: [],
    errors: [],
  },
};

function canonicalType(param) {
  if (param.type.startsWith('tuple')) {
    return `(${param.components.map(canonicalType).join(',')})${param.type.slice('tuple'.length)}`;
  }
  return param.type;
}

function mutabilityClass(entry) {
  if (entry.stateMutability === 'view' || entry.stateMutability === 'pure') return 'v';
  return entry.stateMutability === 'payable' ? 'p' : 'n';
}

const outDir = path.resolve(__dirname, '..', 'out');
let passed = 0;
let failed = 0;
function check(ok, what) {
  if (ok) {
    passed++;
  } else {
    failed++;
    console.log(`FAIL ${what}`);
  }
}

for (const [artifact, expected] of Object.entries(EXPECTED)) {
  const file = path.join(outDir, artifact);
  if (!fs.existsSync(file)) {
    check(false, `${artifact}: artifact missing (run forge build first)`);
    continue;
  }
  const abi = JSON.parse(fs.readFileSync(file, 'utf8')).abi;

  // The expected tables themselves: every selector and topic must match its signature.
  for (const [selector, signature] of expected.functions) {
    check('0x' + keccak256(signature).slice(0, 8) === selector, `${artifact}: table selector ${selector} != ${signature}`);
  }
  for (const [selector, signature] of [...expected.errors, ...(expected.addedErrors || [])]) {
    check('0x' + keccak256(signature).slice(0, 8) === selector, `${artifact}: table error ${selector} != ${signature}`);
  }

  const functions = new Map();
  const events = new Map();
  const errors = new Map();
  let hasReceive = false;
  for (const entry of abi) {
    if (entry.type === 'function') {
      const signature = `${entry.name}(${entry.inputs.map(canonicalType).join(',')})`;
      functions.set('0x' + keccak256(signature).slice(0, 8), {
        signature,
        outputs: `(${entry.outputs.map(canonicalType).join(',')})`,
        mutability: mutabilityClass(entry),
      });
    } else if (entry.type === 'event') {
      const plain = `${entry.name}(${entry.inputs.map(canonicalType).join(',')})`;
      const withIndexed = `${entry.name}(${entry.inputs.map((p) => canonicalType(p) + (p.indexed ? ' indexed' : '')).join(',')})`;
      events.set('0x' + keccak256(plain), withIndexed);
    } else if (entry.type === 'error') {
      const signature = `${entry.name}(${entry.inputs.map(canonicalType).join(',')})`;
      errors.set('0x' + keccak256(signature).slice(0, 8), signature);
    } else if (entry.type === 'receive') {
      hasReceive = true;
    }
  }

  for (const [selector, signature, outputs, mutability] of expected.functions) {
    const actual = functions.get(selector);
    check(actual !== undefined, `${artifact}: missing function ${signature} (${selector})`);
    if (!actual) continue;
    check(actual.outputs === outputs, `${artifact}: ${signature} returns ${actual.outputs}, expected ${outputs}`);
    check(actual.mutability === mutability, `${artifact}: ${signature} mutability ${actual.mutability}, expected ${mutability}`);
  }
  const expectedSelectors = new Set(expected.functions.map((f) => f[0]));
  for (const [selector, actual] of functions) {
    check(expectedSelectors.has(selector), `${artifact}: unexpected function ${actual.signature} (${selector})`);
  }

  const expectedEvents = [...expected.events, ...(expected.addedEvents || [])];
  for (const [topic, signature] of expectedEvents) {
    check(events.get(topic) === signature, `${artifact}: event ${signature} (${topic}) is ${events.get(topic) || 'missing'}`);
  }
  const expectedTopics = new Set(expectedEvents.map((e) => e[0]));
  for (const [topic, signature] of events) {
    check(expectedTopics.has(topic), `${artifact}: unexpected event ${signature}`);
  }

  const expectedErrors = [...expected.errors, ...(expected.addedErrors || [])];
  for (const [selector, signature] of expectedErrors) {
    check(errors.get(selector) === signature, `${artifact}: error ${signature} (${selector}) is ${errors.get(selector) || 'missing'}`);
  }
  const expectedErrorSelectors = new Set(expectedErrors.map((e) => e[0]));
  for (const [selector, signature] of errors) {
    check(expectedErrorSelectors.has(selector), `${artifact}: unexpected error ${signature}`);
  }

  check(hasReceive === Boolean(expected.receive), `${artifact}: receive() ${hasReceive ? 'present' : 'absent'}`);
}

console.log(`ABI check: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
