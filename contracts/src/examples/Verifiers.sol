// SPDX-License-Identifier: BSD-3-Clause-Clear
pragma solidity ^0.8.4;

import {Registry} from "../Registry.sol";
import {Coordinator} from "../Coordinator.sol";
import {IVerifier} from "../payments/IVerifier.sol";
import {WalletFactory} from "../payments/WalletFactory.sol";

/// @title TestVerifier
/// @notice Shared part of the example verifiers: a fee per token (set by anyone: test use
///         only), supported tokens, and a factory Wallet that receives the fees.
abstract contract TestVerifier is IVerifier {
    Coordinator internal immutable COORDINATOR;
    address private immutable WALLET;

    mapping(address => bool) private supported;
    mapping(address => uint256) private fees;

    /// @notice Thrown when a verification is requested by anyone but the coordinator.
    error NotCoordinator();

    constructor(Registry registry) {
        COORDINATOR = Coordinator(registry.COORDINATOR());
        WALLET = WalletFactory(registry.WALLET_FACTORY()).createWallet(address(this));
    }

    receive() external payable {}

    function getWallet() external view returns (address) {
        return WALLET;
    }

    function isSupportedToken(address token) external view returns (bool) {
        return supported[token];
    }

    function fee(address token) external view returns (uint256) {
        return fees[token];
    }

    /// @notice Accepts `token` with fee `amount` per proof (test helper, unrestricted).
    function updateFee(address token, uint256 amount) external {
        supported[token] = true;
        fees[token] = amount;
    }

    /// @notice Stops accepting `token` (test helper, unrestricted).
    function disableToken(address token) external {
        supported[token] = false;
    }

    modifier onlyCoordinator() {
        if (msg.sender != address(COORDINATOR)) revert NotCoordinator();
        _;
    }
}

/// @title AtomicVerifier
/// @notice Settles inside the delivery: a proof is valid unless it is exactly "invalid", or
///         unless `setNextValidity(false)` was called (then the next verdict is false).
contract AtomicVerifier is TestVerifier {
    bool private forceInvalid;

    constructor(Registry registry) TestVerifier(registry) {}

    /// @notice Forces the verdict of the next request (false = invalid).
    function setNextValidity(bool valid) external {
        forceInvalid = !valid;
    }

    function requestProofVerification(uint32 subscriptionId, uint32 interval, address node, bytes calldata proof)
        external
        onlyCoordinator
    {
        bool valid = !forceInvalid && keccak256(proof) != keccak256("invalid");
        forceInvalid = false;
        COORDINATOR.finalizeProofVerification(subscriptionId, interval, node, valid);
    }
}

/// @title OptimisticVerifier
/// @notice Records requests; anyone (a test or an operator) settles them later with
///         `finalize`, which forwards the verdict to the coordinator.
contract OptimisticVerifier is TestVerifier {
    /// @notice keccak256(abi.encode(subscriptionId, interval, node)) => proof received.
    mapping(bytes32 => bytes) public proofs;

    event VerificationRequested(uint32 indexed subscriptionId, uint32 indexed interval, address indexed node);

    constructor(Registry registry) TestVerifier(registry) {}

    function requestProofVerification(uint32 subscriptionId, uint32 interval, address node, bytes calldata proof)
        external
        onlyCoordinator
    {
        proofs[keccak256(abi.encode(subscriptionId, interval, node))] = proof;
        emit VerificationRequested(subscriptionId, interval, node);
    }

    /// @notice Settles a pending request with verdict `valid`.
    function finalize(uint32 subscriptionId, uint32 interval, address node, bool valid) external {
        COORDINATOR.finalizeProofVerification(subscriptionId, interval, node, valid);
    }
}
