// SPDX-License-Identifier: BSD-3-Clause-Clear
pragma solidity ^0.8.24;

import {EIP712} from "solady/utils/EIP712.sol";
import {ECDSA} from "solady/utils/ECDSA.sol";
import {Registry} from "./Registry.sol";
import {Coordinator, Subscription} from "./Coordinator.sol";
import {Delegator} from "./pattern/Delegator.sol";

/// @title EIP712Coordinator
/// @notice The deployed coordinator: adds subscriptions created from an EIP-712 signature of
///         the owner's delegated signer, and creation plus delivery in one transaction.
contract EIP712Coordinator is EIP712, Coordinator {
    string public constant EIP712_VERSION = "1";
    string public constant EIP712_NAME = "InfernetCoordinator";

    /// @dev keccak256 of the Subscription type string (field order = ABI order).
    bytes32 private constant EIP712_SUBSCRIPTION_TYPEHASH = keccak256(
        "Subscription(address owner,uint32 activeAt,uint32 period,uint32 frequency,uint16 redundancy,bytes32 containerId,bool lazy,address verifier,uint256 paymentAmount,address paymentToken,address wallet)"
    );

    /// @dev keccak256 of the DelegateSubscription type string with Subscription appended.
    bytes32 private constant EIP712_DELEGATE_SUBSCRIPTION_TYPEHASH = keccak256(
        "DelegateSubscription(uint32 nonce,uint32 expiry,Subscription sub)Subscription(address owner,uint32 activeAt,uint32 period,uint32 frequency,uint16 redundancy,bytes32 containerId,bool lazy,address verifier,uint256 paymentAmount,address paymentToken,address wallet)"
    );

    /// @notice Highest nonce used per subscribing contract (a hint for off-chain signers).
    mapping(address => uint32) public maxSubscriberNonce;

    /// @notice keccak256(abi.encode(owner, nonce)) => subscription id created for that pair.
    mapping(bytes32 => uint32) public delegateCreatedIds;

    error SignerMismatch();
    error SignatureExpired();

    constructor(Registry registry) Coordinator(registry) {}

    function _domainNameAndVersion() internal pure override returns (string memory, string memory) {
        return (EIP712_NAME, EIP712_VERSION);
    }

    function _domainNameAndVersionMayChange() internal pure override returns (bool) {
        return false;
    }

    /// @notice Creates `sub` exactly as signed by `Delegator(sub.owner).getSigner()`, or returns
    ///         the id already created for (sub.owner, nonce) without checking anything else.
    function createSubscriptionDelegatee(
        uint32 nonce,
        uint32 expiry,
        Subscription calldata sub,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) public returns (uint32) {
        bytes32 key = keccak256(abi.encode(sub.owner, nonce));
        uint32 existing = delegateCreatedIds[key];
        if (existing != 0) return existing;

        if (uint32(block.timestamp) >= expiry) revert SignatureExpired();
        bytes32 digest = _hashTypedData(
            keccak256(abi.encode(EIP712_DELEGATE_SUBSCRIPTION_TYPEHASH, nonce, expiry, _hashSubscription(sub)))
        );
        address recovered = ECDSA.recover(digest, v, r, s);
        if (recovered != Delegator(sub.owner).getSigner()) revert SignerMismatch();
        _checkShape(sub.frequency, sub.redundancy);

        uint32 subscriptionId = id;
        unchecked {
            id = subscriptionId + 1;
        }
        _storeSubscription(subscriptionId, sub);
        delegateCreatedIds[key] = subscriptionId;
        emit SubscriptionCreated(subscriptionId);
        if (nonce > maxSubscriberNonce[sub.owner]) maxSubscriberNonce[sub.owner] = nonce;
        return subscriptionId;
    }

    /// @notice createSubscriptionDelegatee followed by deliverCompute, atomically.
    function deliverComputeDelegatee(
        uint32 nonce,
        uint32 expiry,
        Subscription calldata sub,
        uint8 v,
        bytes32 r,
        bytes32 s,
        uint32 deliveryInterval,
        bytes calldata input,
        bytes calldata output,
        bytes calldata proof,
        address nodeWallet
    ) external {
        uint32 subscriptionId = createSubscriptionDelegatee(nonce, expiry, sub, v, r, s);
        deliverCompute(subscriptionId, deliveryInterval, input, output, proof, nodeWallet);
    }

    function _hashSubscription(Subscription calldata sub) private pure returns (bytes32) {
        return keccak256(
            abi.encode(
                EIP712_SUBSCRIPTION_TYPEHASH,
                sub.owner,
                sub.activeAt,
                sub.period,
                sub.frequency,
                sub.redundancy,
                sub.containerId,
                sub.lazy,
                sub.verifier,
                sub.paymentAmount,
                sub.paymentToken,
                sub.wallet
            )
        );
    }
}
