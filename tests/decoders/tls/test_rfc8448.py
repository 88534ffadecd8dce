"""RFC 8448 ("Example Handshake Traces for TLS 1.3"): the TLS 1.3 key schedule, record protection
and two whole connections, checked against the values the RFC writes out.

Every hex value in this module is copied from RFC 8448: §3 "Simple 1-RTT Handshake" and §4
"Resumed 0-RTT Handshake" (TLS_AES_128_GCM_SHA256, x25519).  The transcription checks itself:
the transcript hashes the RFC prints are recomputed here from the messages, and every record
must authenticate (AES-GCM) under the RFC's keys.
"""

from __future__ import annotations

import hashlib
import hmac

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from decoders.tls import (
    AlertEvent,
    ApplicationData,
    HandshakeMessage,
    HandshakeType,
    KeyStore,
    OpaqueData,
    TlsConnection,
    TlsEvent,
    hkdf_expand_label,
    next_traffic_secret,
    parse_keylog,
    protection_13,
    suite,
)

AES_128_GCM_SHA256 = suite(0x1301)
EMPTY_HASH = hashlib.sha256(b"").digest()
#: The 50-octet payload both sides send in §3 and §4 ("send application_data record").
PAYLOAD = bytes(range(50))
#: A warning close_notify alert, the plaintext of every "send alert record" of §3 and §4.
CLOSE_NOTIFY = b"\x01\x00"

# RFC 8448 §3 {client} send handshake record: complete record (201 octets)
CLIENT_HELLO_RECORD_3 = bytes.fromhex(
    "16030100c4010000c00303cb34ecb1e78163ba1c38c6dacb196a6dffa21a8d9912ec18a2ef6283024dece70000061301"
    "13031302010000910000000b0009000006736572766572ff01000100000a00140012001d001700180019010001010102"
    "0103010400230000003300260024001d002099381de560e4bd43d23d8e435a7dbafeb3c06e51c13cae4d5413691e529a"
    "af2c002b0003020304000d0020001e040305030603020308040805080604010501060102010402050206020202002d00"
    "020101001c00024001"
)
# RFC 8448 §3 {server} send handshake record: complete record (95 octets)
SERVER_HELLO_RECORD_3 = bytes.fromhex(
    "160303005a020000560303a6af06a4121860dc5e6e60249cd34c95930c8ac5cb1434dac155772ed3e269280013010000"
    "2e00330024001d0020c9828876112095fe66762bdbf7c672e156d6cc253b833df1dd69b1b04e751f0f002b00020304"
)
# RFC 8448 §3 {server} construct an EncryptedExtensions handshake message (40 octets)
ENCRYPTED_EXTENSIONS_3 = bytes.fromhex(
    "080000240022000a00140012001d00170018001901000101010201030104001c0002400100000000"
)
# RFC 8448 §3 {server} construct a Certificate handshake message (445 octets)
CERTIFICATE_3 = bytes.fromhex(
    "0b0001b9000001b50001b0308201ac30820115a003020102020102300d06092a864886f70d01010b0500300e310c300a"
    "06035504031303727361301e170d3136303733303031323335395a170d3236303733303031323335395a300e310c300a"
    "0603550403130372736130819f300d06092a864886f70d010101050003818d0030818902818100b4bb498f8279303d98"
    "0836399b36c6988c0c68de55e1bdb826d3901a2461eafd2de49a91d015abbc9a95137ace6c1af19eaa6af98c7ced4312"
    "0998e187a80ee0ccb0524b1b018c3e0b63264d449a6d38e22a5fda430846748030530ef0461c8ca9d9efbfae8ea6d1d0"
    "3e2bd193eff0ab9a8002c47428a6d35a8d88d79f7f1e3f0203010001a31a301830090603551d1304023000300b060355"
    "1d0f0404030205a0300d06092a864886f70d01010b05000381810085aad2a0e5b9276b908c65f73a7267170618a54c5f"
    "8a7b337d2df7a594365417f2eae8f8a58c8f8172f9319cf36b7fd6c55b80f21a03015156726096fd335e5e67f2dbf102"
    "702e608ccae6bec1fc63a42a99be5c3eb7107c3c54e9b9eb2bd5203b1c3b84e0a8b2f759409ba3eac9d91d402dcc0cc8"
    "f8961229ac9187b42b4de10000"
)
# RFC 8448 §3 {server} construct a CertificateVerify handshake message (136 octets)
CERTIFICATE_VERIFY_3 = bytes.fromhex(
    "0f000084080400805a747c5d88fa9bd2e55ab085a61015b7211f824cd484145ab3ff52f1fda8477b0b7abc90db78e2d3"
    "3a5c141a078653fa6bef780c5ea248eeaaa785c4f394cab6d30bbe8d4859ee511f602957b15411ac027671459e46445c"
    "9ea58c181e818e95b8c3fb0bf3278409d3be152a3da5043e063dda65cdf5aea20d53dfacd42f74f3"
)
# RFC 8448 §3 {server} construct a Finished handshake message (36 octets)
SERVER_FINISHED_3 = bytes.fromhex("140000209b9b141d906337fbd2cbdce71df4deda4ab42c309572cb7fffee5454b78f0718")
# RFC 8448 §3 {server} send handshake record: complete record (679 octets), the four messages above
SERVER_FLIGHT_RECORD_3 = bytes.fromhex(
    "17030302a2d1ff334a56f5bff6594a07cc87b580233f500f45e489e7f33af35edf7869fcf40aa40aa2b8ea73f848a7ca"
    "07612ef9f945cb960b4068905123ea78b111b429ba9191cd05d2a389280f526134aadc7fc78c4b729df828b5ecf7b13b"
    "d9aefb0e57f271585b8ea9bb355c7c79020716cfb9b1183ef3ab20e37d57a6b9d7477609aee6e122a4cf51427325250c"
    "7d0e509289444c9b3a648f1d71035d2ed65b0e3cdd0cbae8bf2d0b227812cbb360987255cc744110c453baa4fcd61092"
    "8d809810e4b7ed1a8fd991f06aa6248204797e36a6a73b70a2559c09ead686945ba246ab66e5edd8044b4c6de3fcf2a8"
    "9441ac66272fd8fb330ef8190579b3684596c960bd596eea520a56a8d650f563aad27409960dca63d3e688611ea5e22f"
    "4415cf9538d51a200c27034272968a264ed6540c84838d89f72c24461aad6d26f59ecaba9acbbb317b66d902f4f292a3"
    "6ac1b639c637ce343117b659622245317b49eeda0c6258f100d7d961ffb138647e92ea330faeea6dfa31c7a84dc3bd7e"
    "1b7a6c7178af36879018e3f252107f243d243dc7339d5684c8b0378bf30244da8c87c843f5e56eb4c5e8280a2b48052c"
    "f93b16499a66db7cca71e4599426f7d461e66f99882bd89fc50800becca62d6c74116dbd2972fda1fa80f85df881edbe"
    "5a37668936b335583b599186dc5c6918a396fa48a181d6b6fa4f9d62d513afbb992f2b992f67f8afe67f76913fa388cb"
    "5630c8ca01e0c65d11c66a1e2ac4c85977b7c7a6999bbf10dc35ae69f5515614636c0b9b68c19ed2e31c0b3b66763038"
    "ebba42f3b38edc0399f3a9f23faa63978c317fc9fa66a73f60f0504de93b5b845e275592c12335ee340bbc4fddd50278"
    "4016e4b3be7ef04dda49f4b440a30cb5d2af939828fd4ae3794e44f94df5a631ede42c1719bfdabf0253fe5175be898e"
    "750edc53370d2b"
)
# RFC 8448 §3 {client} construct a Finished handshake message (36 octets)
CLIENT_FINISHED_3 = bytes.fromhex("14000020a8ec436d677634ae525ac1fcebe11a039ec17694fac6e98527b642f2edd5ce61")
# RFC 8448 §3 {client} send handshake record: complete record (58 octets)
CLIENT_FINISHED_RECORD_3 = bytes.fromhex(
    "170303003575ec4dc238cce60b298044a71e219c56cc77b0517fe9b93c7a4bfc44d87f38f80338ac98fc46deb384bd1c"
    "aeacab6867d726c40546"
)
# RFC 8448 §3 {server} construct a NewSessionTicket handshake message (205 octets)
NEW_SESSION_TICKET_3 = bytes.fromhex(
    "040000c90000001efad6aac502000000b22c035d829359ee5ff7af4ec900000000262a6494dc486d2c8a34cb33fa90bf"
    "1b0070ad3c498883c9367c09a2be785abc55cd226097a3a982117283f82a03a143efd3ff5dd36d64e861be7fd61d2827"
    "db279cce145077d454a3664d4e6da4d29ee03725a6a4dafcd0fc67d2aea70529513e3da2677fa5906c5b3f7d8f92f228"
    "bda40dda721470f9fbf297b5aea617646fac5c03272e970727c621a79141ef5f7de6505e5bfbc388e93343694093934a"
    "e4d3570008002a000400000400"
)
# RFC 8448 §3 {server} send handshake record: complete record (227 octets)
NEW_SESSION_TICKET_RECORD_3 = bytes.fromhex(
    "17030300de3a6b8f90414a97d6959c3487680de5134a2b240e6cffac116e95d41d6af8f6b580dcf3d11d63c758db289a"
    "015940252f55713e061dc13e078891a38efbcf5753ad8ef170ad3c7353d16d9da773b9ca7f2b9fa1b6c0d4a3d03f75e0"
    "9c30ba1e62972ac46f75f7b981be63439b2999ce13064615139891d5e4c5b406f16e3fc181a77ca475840025db2f0a77"
    "f81b5ab05b94c01346755f69232c86519d86cbeeac87aac347d143f9605d64f650db4d023e70e952ca49fe5137121c74"
    "bc2697687e248746d6df353005f3bce18696129c8153556b3b6c6779b37bf15985684f"
)
# RFC 8448 §3 {client} send application_data record: complete record (72 octets)
CLIENT_APPLICATION_RECORD_3 = bytes.fromhex(
    "1703030043a23f7054b62c94d0affafe8228ba55cbefacea42f914aa66bcab3f2b9819a8a5b46b395bd54a9a20441e2b"
    "62974e1f5a6292a2977014bd1e3deae63aeebb21694915e4"
)
# RFC 8448 §3 {server} send application_data record: complete record (72 octets)
SERVER_APPLICATION_RECORD_3 = bytes.fromhex(
    "17030300432e937e11ef4ac740e538ad36005fc4a46932fc3225d05f82aa1b36e30efaf97d90e6dffc602dcb501a59a8"
    "fcc49c4bf2e5f0a21c0047c2abf332540dd032e167c2955d"
)
# RFC 8448 §3 {client} send alert record: complete record (24 octets)
CLIENT_ALERT_RECORD_3 = bytes.fromhex("1703030013c9872760655666b74d7ff1153efd6db6d0b0e3")
# RFC 8448 §3 {server} send alert record: complete record (24 octets)
SERVER_ALERT_RECORD_3 = bytes.fromhex("1703030013b58fd67166ebf599d24720cfbe7efa7a8864a9")
# RFC 8448 §4 {client} send handshake record: complete record (517 octets)
CLIENT_HELLO_RECORD_4 = bytes.fromhex(
    "1603010200010001fc03031bc3ceb6bbe39cff938355b5a50adb6db21b7a6af649d7b4bc419d7876487d950000061301"
    "13031302010001cd0000000b0009000006736572766572ff01000100000a00140012001d001700180019010001010102"
    "01030104003300260024001d0020e4ffb68ac05f8d96c99da26698346c6be16482badddafe051a66b4f18d668f0b002a"
    "0000002b0003020304000d0020001e040305030603020308040805080604010501060102010402050206020202002d00"
    "020101001c00024001001500570000000000000000000000000000000000000000000000000000000000000000000000"
    "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "00000000002900dd00b800b22c035d829359ee5ff7af4ec900000000262a6494dc486d2c8a34cb33fa90bf1b0070ad3c"
    "498883c9367c09a2be785abc55cd226097a3a982117283f82a03a143efd3ff5dd36d64e861be7fd61d2827db279cce14"
    "5077d454a3664d4e6da4d29ee03725a6a4dafcd0fc67d2aea70529513e3da2677fa5906c5b3f7d8f92f228bda40dda72"
    "1470f9fbf297b5aea617646fac5c03272e970727c621a79141ef5f7de6505e5bfbc388e93343694093934ae4d357fad6"
    "aacb0021203add4fb2d8fdf822a0ca3cf7678ef5e88dae990141c5924d57bb6fa31b9e5f9d"
)
# RFC 8448 §4 {client} send application_data record: complete record (28 octets), payload 41 42 43 44 45 46
EARLY_DATA_RECORD_4 = bytes.fromhex("1703030017ab1df420e75c457a7cc5d2844f76d5aee4b4edbf049be0")
# RFC 8448 §4 {server} send handshake record: complete record (101 octets)
SERVER_HELLO_RECORD_4 = bytes.fromhex(
    "16030300600200005c03033ccfd2dec890222763472ae8136777c9d7358777bb66e91ea5122495f559ea2d0013010000"
    "3400290002000000330024001d0020121761ee42c333e1b9e77b60dd57c2053cd94512ab47f115e86eff50942cea3100"
    "2b00020304"
)
# RFC 8448 §4 {server} construct an EncryptedExtensions handshake message (44 octets)
ENCRYPTED_EXTENSIONS_4 = bytes.fromhex(
    "080000280026000a00140012001d00170018001901000101010201030104001c0002400100000000002a0000"
)
# RFC 8448 §4 {server} construct a Finished handshake message (36 octets)
SERVER_FINISHED_4 = bytes.fromhex("1400002048d3e0e1b3d907c6acff145e16090388c77b05c050b634ab1a88bbd0dd1a34b2")
# RFC 8448 §4 {server} send handshake record: complete record (102 octets), the two messages above
SERVER_FLIGHT_RECORD_4 = bytes.fromhex(
    "1703030061dc48237b4b879f50d0d4d262ea8b4716eb40ddc1eb957e11126e8a7149c2d012d37a7115957e64ce30008b"
    "9e0323f2c05a9c1c77b4f37849a695ab255060a33fee770ca95cb8486bfd0843b87024865ca35cc41c4e515c64dcb136"
    "9f98635bc7a5"
)
# RFC 8448 §4 {client} send handshake record: complete record (26 octets), EndOfEarlyData
END_OF_EARLY_DATA_RECORD_4 = bytes.fromhex("1703030015aca6fc944841298df99593725f9bf9754429b12f09")
# RFC 8448 §4 {client} send handshake record: complete record (58 octets), Finished
CLIENT_FINISHED_RECORD_4 = bytes.fromhex(
    "170303003500f8b467d14cf22a4b3f0b6ae0d8e6cc8d08e0db3515ef5c2bdf1922eafbb70009964716d834fb70c3d2a5"
    "6c5b1f5f6bdba6c333cf"
)
# RFC 8448 §4 {client} send application_data record: complete record (72 octets)
CLIENT_APPLICATION_RECORD_4 = bytes.fromhex(
    "1703030043b1cebce242aa201be9ae5e1cb2a9aa4b33d4e866af1edb068919237741aa031d7a74d491c99b9d4e232b74"
    "206bc6fbaa04fe78be44a9b4f54320a17eb76992afac3103"
)
# RFC 8448 §4 {server} send application_data record: complete record (72 octets)
SERVER_APPLICATION_RECORD_4 = bytes.fromhex(
    "1703030043275e9f20acff57bc000657d3867df039cccf79047884cf75771746f740b5a83f462a0954c3581393a203a2"
    "5a7dd14141ef1a37900cdb62ff62dee1ba39ab2590cbf194"
)
# RFC 8448 §4 {client} send alert record: complete record (24 octets)
CLIENT_ALERT_RECORD_4 = bytes.fromhex("17030300130facce3246bdfc6369838d6a82ae6de5d422dc")
# RFC 8448 §4 {server} send alert record: complete record (24 octets)
SERVER_ALERT_RECORD_4 = bytes.fromhex("17030300135b18af444e8e1eec7158fb62d8f2577d37ba5d")


def h(text: str) -> bytes:
    return bytes.fromhex(text)


# -- RFC 8448 §3 key schedule --------------------------------------------------------------------
EARLY_SECRET_3 = h("33ad0a1c607ec03b09e6cd9893680ce210adf300aa1f2660e1b22e10f170f92a")  # extract "early"
DERIVED_3 = h("6f2615a108c702c5678f54fc9dbab69716c076189c48250cebeac3576c3611ba")  # "tls13 derived"
HANDSHAKE_SECRET_3 = h("1dc826e93606aa6fdc0aadc12f741b01046aa6b99f691ed221a9f0ca043fbeac")  # "handshake"
HELLO_HASH_3 = h("860c06edc07858ee8e78f0e7428c58edd6b43f2ca3e6e95f02ed063cf0e1cad8")  # "c hs traffic" hash
C_HS_3 = h("b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21")  # "tls13 c hs traffic"
S_HS_3 = h("b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38")  # "tls13 s hs traffic"
MASTER_DERIVED_3 = h("43de77e0c77713859a944db9db2590b53190a65b3ee2e4f12dd7a0bb7ce254b4")  # for master
MASTER_3 = h("18df06843d13a08bf2a449844c5f8a478001bc4d4c627984d5a41da8d0402919")  # extract secret "master"
FINISHED_HASH_3 = h("9608102a0f1ccc6db6250b7b7e417b1a000eaada3daae4777a7686c9ff83df13")  # "c ap traffic" hash
C_AP_3 = h("9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5")  # "tls13 c ap traffic"
S_AP_3 = h("a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643")  # "tls13 s ap traffic"
EXPORTER_3 = h("fe22f881176eda18eb8f44529e6792c50c9a3f89452f68d8ae311b4309d3cf50")  # "tls13 exp master"
RES_HASH_3 = h("209145a96ee8e2a122ff810047cc952684658d6049e86429426db87c54ad143d")  # hash in "res master"
RES_MASTER_3 = h("7df235f2031d2a051287d02b0241b0bfdaf86cc856231f2d5aba46c434ec196c")  # "tls13 res master"
PSK_3 = h("4ecd0eb6ec3b4d87f5d6028f922ca4c5851a277fd41311c9e62d2c9492e1c4f3")  # "tls13 resumption"
S_FINISHED_KEY_3 = h("008d3b66f816ea559f96b537e885c31fc068bf492c652f01f288a1d8cdc19fc8")  # {server} finished
C_FINISHED_KEY_3 = h("b80ad01015fb2f0bd65ff7d4da5d6bf83f84821d1f87fdc7d3c75b5a7b42d9c4")  # {client} finished

# -- RFC 8448 §4 key schedule (the PSK is §3's resumption secret) ---------------------------------
EARLY_SECRET_4 = h("9b2188e9b2fc6d64d71dc329900e20bb41915000f678aa839cbb797cb7d8332c")  # extract "early"
BINDER_KEY_4 = h("69fe131a3bbad5d63c64eebcc30e395b9d8107726a13d074e389dbc8a4e47256")  # PSK binder: PRK
BINDER_FINISHED_KEY_4 = h("5588673e72cb59c87d220caffe94f2dea9a3b1609f7d50e90a48227db9ed7eaa")  # "expanded"
C_E_4 = h("3fbbe6a60deb66c30a32795aba0eff7eaa10105586e7be5c09678d63b6caab62")  # "tls13 c e traffic"
DERIVED_4 = h("5f1790bbd82c5e7d376ed2e1e52f8e6038c9346db61b43be9a52f77ef3998e80")  # handshake "tls13 derived"
C_HS_4 = h("2faac08f851d35fea3604fcb4de82dc62c9b164a70974d0462e27f1ab278700f")  # "tls13 c hs traffic"
S_HS_4 = h("fe927ae271312e8bf0275b581c54eef020450dc4ecffaa05a1a35d27518e7803")  # "tls13 s hs traffic"
C_AP_4 = h("2abbf2b8e381d23dbebe1dd2a7d16a8bf484cb4950d23fb7fb7fa8547062d9a1")  # "tls13 c ap traffic"
S_AP_4 = h("cc21f1bf8feb7dd5fa505bd9c4b468a9984d554a993dc49e6d285598fb672691")  # "tls13 s ap traffic"

#: (traffic secret, "key expanded", "iv expanded") of every "derive ... traffic keys" step.
TRAFFIC_KEYS = {
    "§3 server handshake": (S_HS_3, "3fce516009c21727d0f2e4e86ee403bc", "5d313eb2671276ee13000b30"),
    "§3 client handshake": (C_HS_3, "dbfaa693d1762c5b666af5d950258d01", "5bd3c71b836e0b76bb73265f"),
    "§3 server application": (S_AP_3, "9f02283b6c9c07efc26bb9f2ac92e356", "cf782b88dd83549aadf1e984"),
    "§3 client application": (C_AP_3, "17422dda596ed5d9acd890e3c63f5051", "5b78923dee08579033e523d9"),
    "§4 client early": (C_E_4, "920205a5b7bf2115e6fc5c2942834f54", "6d475f0993c8e564610db2b9"),
    "§4 server handshake": (S_HS_4, "27c6bdc0a3dcea39a47326d79bc9e4ee", "9569ecdd4d0536705e9ef725"),
    "§4 server application": (S_AP_4, "e857c690a34c5a9129d833619684f95e", "0685d6b561aab9ef1013faf9"),
}


def hkdf_expand_label_reference(hash_name: str, secret: bytes, label: bytes, context: bytes,
                                length: int) -> bytes:
    """RFC 8446 §7.1 over RFC 5869 §2.3, with the standard library's ``hmac`` (not the decoder's)."""
    full = b"tls13 " + label
    info = length.to_bytes(2, "big") + bytes([len(full)]) + full + bytes([len(context)]) + context
    out, block = b"", b""
    for i in range(1, 256):
        block = hmac.digest(secret, block + info + bytes([i]), hash_name)
        out += block
        if len(out) >= length:
            break
    return out[:length]


def seal_13(secret: bytes, seq: int, content_type: int, plaintext: bytes) -> bytes:
    """A TLS 1.3 AES-128-GCM record built in the test (RFC 8446 §5.2), keys from the reference HKDF."""
    key = hkdf_expand_label_reference("sha256", secret, b"key", b"", 16)
    iv = hkdf_expand_label_reference("sha256", secret, b"iv", b"", 12)
    inner = plaintext + bytes([content_type])
    header = b"\x17\x03\x03" + (len(inner) + 16).to_bytes(2, "big")
    nonce = (int.from_bytes(iv, "big") ^ seq).to_bytes(12, "big")
    return header + AESGCM(key).encrypt(nonce, inner, header)


def keylog(client_hello_record: bytes, **secrets: bytes) -> KeyStore:
    """A KeyStore holding NSS key log lines for the ClientHello's random."""
    random = client_hello_record[11:43].hex()
    text = "".join(f"{label} {random} {secret.hex()}\n" for label, secret in secrets.items())
    keys = KeyStore()
    parsed = parse_keylog(text.encode(), source="rfc8448.keys")
    assert parsed.problems == ()
    keys.add_keylog(parsed)
    return keys


SECRETS_3 = {"CLIENT_HANDSHAKE_TRAFFIC_SECRET": C_HS_3, "SERVER_HANDSHAKE_TRAFFIC_SECRET": S_HS_3,
             "CLIENT_TRAFFIC_SECRET_0": C_AP_3, "SERVER_TRAFFIC_SECRET_0": S_AP_3}
SECRETS_4 = {"CLIENT_EARLY_TRAFFIC_SECRET": C_E_4,
             "CLIENT_HANDSHAKE_TRAFFIC_SECRET": C_HS_4, "SERVER_HANDSHAKE_TRAFFIC_SECRET": S_HS_4,
             "CLIENT_TRAFFIC_SECRET_0": C_AP_4, "SERVER_TRAFFIC_SECRET_0": S_AP_4}

#: §3 in wire order: (direction 0 = client, 1 = server, record).
TRACE_3 = [
    (0, CLIENT_HELLO_RECORD_3), (1, SERVER_HELLO_RECORD_3), (1, SERVER_FLIGHT_RECORD_3),
    (0, CLIENT_FINISHED_RECORD_3), (1, NEW_SESSION_TICKET_RECORD_3), (0, CLIENT_APPLICATION_RECORD_3),
    (1, SERVER_APPLICATION_RECORD_3), (0, CLIENT_ALERT_RECORD_3), (1, SERVER_ALERT_RECORD_3),
]
TRACE_4 = [
    (0, CLIENT_HELLO_RECORD_4), (0, EARLY_DATA_RECORD_4), (1, SERVER_HELLO_RECORD_4),
    (1, SERVER_FLIGHT_RECORD_4), (0, END_OF_EARLY_DATA_RECORD_4), (0, CLIENT_FINISHED_RECORD_4),
    (0, CLIENT_APPLICATION_RECORD_4), (1, SERVER_APPLICATION_RECORD_4), (0, CLIENT_ALERT_RECORD_4),
    (1, SERVER_ALERT_RECORD_4),
]


def feed(conn: TlsConnection, trace: list[tuple[int, bytes]], piece: int = 0) -> list[TlsEvent]:
    """Each record as one segment, or in pieces of ``piece`` bytes."""
    events: list[TlsEvent] = []
    for direction, record in trace:
        step = piece or len(record)
        for i in range(0, len(record), step):
            events += conn.receive_data(direction, record[i:i + step])
    for direction in (0, 1):
        events += conn.receive_eof(direction)
    return events


def record_ends(trace: list[tuple[int, bytes]]) -> list[tuple[int, int]]:
    """(direction, stream offset just past the record) for each record of a trace."""
    offset = [0, 0]
    out = []
    for direction, record in trace:
        offset[direction] += len(record)
        out.append((direction, offset[direction]))
    return out


# -- the transcription ------------------------------------------------------------------------------


def test_the_messages_hash_to_the_transcript_hashes_the_rfc_prints() -> None:
    ch, sh = CLIENT_HELLO_RECORD_3[5:], SERVER_HELLO_RECORD_3[5:]
    server_flight = ENCRYPTED_EXTENSIONS_3 + CERTIFICATE_3 + CERTIFICATE_VERIFY_3 + SERVER_FINISHED_3
    assert hashlib.sha256(ch + sh).digest() == HELLO_HASH_3
    assert hashlib.sha256(ch + sh + server_flight).digest() == FINISHED_HASH_3
    assert hashlib.sha256(ch + sh + server_flight + CLIENT_FINISHED_3).digest() == RES_HASH_3
    # §4: the early traffic secret is derived over the whole ClientHello (with its PSK binder).
    ch4 = CLIENT_HELLO_RECORD_4[5:]
    assert len(ch4) == 512
    ch4_hash = hashlib.sha256(ch4).digest()
    assert hkdf_expand_label("sha256", EARLY_SECRET_4, b"c e traffic", ch4_hash, 32) == C_E_4


# -- HKDF-Expand-Label --------------------------------------------------------------------------------

EXPAND_LABEL_VECTORS = {
    "§3 derive secret for handshake tls13 derived": (EARLY_SECRET_3, b"derived", EMPTY_HASH, DERIVED_3),
    "§3 tls13 c hs traffic": (HANDSHAKE_SECRET_3, b"c hs traffic", HELLO_HASH_3, C_HS_3),
    "§3 tls13 s hs traffic": (HANDSHAKE_SECRET_3, b"s hs traffic", HELLO_HASH_3, S_HS_3),
    "§3 derive secret for master tls13 derived": (HANDSHAKE_SECRET_3, b"derived", EMPTY_HASH,
                                                  MASTER_DERIVED_3),
    "§3 tls13 c ap traffic": (MASTER_3, b"c ap traffic", FINISHED_HASH_3, C_AP_3),
    "§3 tls13 s ap traffic": (MASTER_3, b"s ap traffic", FINISHED_HASH_3, S_AP_3),
    "§3 tls13 exp master": (MASTER_3, b"exp master", FINISHED_HASH_3, EXPORTER_3),
    "§3 tls13 res master": (MASTER_3, b"res master", RES_HASH_3, RES_MASTER_3),
    "§3 {server} calculate finished": (S_HS_3, b"finished", b"", S_FINISHED_KEY_3),
    "§3 {client} calculate finished": (C_HS_3, b"finished", b"", C_FINISHED_KEY_3),
    "§3 generate resumption secret": (RES_MASTER_3, b"resumption", b"\x00\x00", PSK_3),
    "§4 derive secret for handshake tls13 derived": (EARLY_SECRET_4, b"derived", EMPTY_HASH, DERIVED_4),
    "§4 calculate PSK binder: binder key": (EARLY_SECRET_4, b"res binder", EMPTY_HASH, BINDER_KEY_4),
    "§4 calculate PSK binder: finished key": (BINDER_KEY_4, b"finished", b"", BINDER_FINISHED_KEY_4),
}


@pytest.mark.parametrize(("secret", "label", "context", "expected"), EXPAND_LABEL_VECTORS.values(),
                         ids=EXPAND_LABEL_VECTORS.keys())
def test_hkdf_expand_label(secret: bytes, label: bytes, context: bytes, expected: bytes) -> None:
    assert hkdf_expand_label("sha256", secret, label, context, len(expected)) == expected
    assert hkdf_expand_label_reference("sha256", secret, label, context, len(expected)) == expected


@pytest.mark.parametrize(("secret", "key", "iv"), TRAFFIC_KEYS.values(), ids=TRAFFIC_KEYS.keys())
def test_traffic_key_and_iv(secret: bytes, key: str, iv: str) -> None:
    assert hkdf_expand_label("sha256", secret, b"key", b"", 16).hex() == key
    assert hkdf_expand_label("sha256", secret, b"iv", b"", 12).hex() == iv


@pytest.mark.parametrize("hash_name", ["sha256", "sha384"])
@pytest.mark.parametrize("length", [12, 16, 32, 48, 100])
def test_hkdf_expand_label_against_the_reference_for_other_hashes_and_lengths(hash_name: str,
                                                                               length: int) -> None:
    secret = hashlib.new(hash_name, b"a traffic secret").digest()
    cases = [(b"key", b""), (b"iv", b""), (b"c ap traffic", HELLO_HASH_3), (b"x" * 40, b"\xff" * 48)]
    for label, context in cases:
        want = hkdf_expand_label_reference(hash_name, secret, label, context, length)
        assert hkdf_expand_label(hash_name, secret, label, context, length) == want


@pytest.mark.parametrize("hash_name", ["sha256", "sha384"])
def test_next_traffic_secret_is_expand_label_traffic_upd(hash_name: str) -> None:
    # RFC 8446 §7.2: traffic_secret_N+1 = HKDF-Expand-Label(traffic_secret_N, "traffic upd", "", Hash.length)
    secret = C_AP_3 if hash_name == "sha256" else hashlib.sha384(C_AP_3).digest()
    length = len(secret)
    chain = [secret]
    for _ in range(3):
        chain.append(hkdf_expand_label_reference(hash_name, chain[-1], b"traffic upd", b"", length))
    got = [secret]
    for _ in range(3):
        got.append(next_traffic_secret(hash_name, got[-1]))
    assert got == chain
    assert len(set(got)) == 4


# -- record protection ---------------------------------------------------------------------------------

#: (traffic secret, sequence number, record, content type inside, plaintext inside)
RECORDS = {
    "§3 server handshake flight": (S_HS_3, 0, SERVER_FLIGHT_RECORD_3, 22, ENCRYPTED_EXTENSIONS_3
                                   + CERTIFICATE_3 + CERTIFICATE_VERIFY_3 + SERVER_FINISHED_3),
    "§3 client Finished": (C_HS_3, 0, CLIENT_FINISHED_RECORD_3, 22, CLIENT_FINISHED_3),
    "§3 NewSessionTicket": (S_AP_3, 0, NEW_SESSION_TICKET_RECORD_3, 22, NEW_SESSION_TICKET_3),
    "§3 client application data": (C_AP_3, 0, CLIENT_APPLICATION_RECORD_3, 23, PAYLOAD),
    "§3 server application data": (S_AP_3, 1, SERVER_APPLICATION_RECORD_3, 23, PAYLOAD),
    "§3 client alert": (C_AP_3, 1, CLIENT_ALERT_RECORD_3, 21, CLOSE_NOTIFY),
    "§3 server alert": (S_AP_3, 2, SERVER_ALERT_RECORD_3, 21, CLOSE_NOTIFY),
    "§4 early application data": (C_E_4, 0, EARLY_DATA_RECORD_4, 23, b"ABCDEF"),
    "§4 EndOfEarlyData": (C_E_4, 1, END_OF_EARLY_DATA_RECORD_4, 22, b"\x05\x00\x00\x00"),
    "§4 server handshake flight": (S_HS_4, 0, SERVER_FLIGHT_RECORD_4, 22,
                                   ENCRYPTED_EXTENSIONS_4 + SERVER_FINISHED_4),
    "§4 client application data": (C_AP_4, 0, CLIENT_APPLICATION_RECORD_4, 23, PAYLOAD),
    "§4 server application data": (S_AP_4, 0, SERVER_APPLICATION_RECORD_4, 23, PAYLOAD),
    "§4 client alert": (C_AP_4, 1, CLIENT_ALERT_RECORD_4, 21, CLOSE_NOTIFY),
    "§4 server alert": (S_AP_4, 1, SERVER_ALERT_RECORD_4, 21, CLOSE_NOTIFY),
}


@pytest.mark.parametrize(("secret", "seq", "record", "content_type", "plaintext"), RECORDS.values(),
                         ids=RECORDS.keys())
def test_protection_13_opens_the_rfc_records(secret: bytes, seq: int, record: bytes, content_type: int,
                                              plaintext: bytes) -> None:
    prot = protection_13(AES_128_GCM_SHA256, secret)
    assert prot is not None
    version = int.from_bytes(record[1:3], "big")
    assert prot.open(record[0], version, seq, record[5:]) == (content_type, plaintext)
    # The wrong sequence number, a flipped bit, a changed header: nothing opens.
    assert prot.open(record[0], version, seq + 1, record[5:]) is None
    damaged = bytearray(record[5:])
    damaged[len(damaged) // 2] ^= 0x01
    assert prot.open(record[0], version, seq, bytes(damaged)) is None
    assert prot.open(record[0], 0x0301, seq, record[5:]) is None


def test_protection_13_opens_the_section_4_client_finished() -> None:
    # §4 prints this Finished only inside its record: it is a 32-byte verify_data Finished.
    prot = protection_13(AES_128_GCM_SHA256, C_HS_4)
    assert prot is not None
    opened = prot.open(23, 0x0303, 0, CLIENT_FINISHED_RECORD_4[5:])
    assert opened is not None
    assert opened[0] == 22 and opened[1][:4] == b"\x14\x00\x00\x20" and len(opened[1]) == 36


def test_protection_13_refuses_what_it_cannot_use() -> None:
    assert protection_13(AES_128_GCM_SHA256, C_AP_3[:31]) is None  # a secret of the wrong length
    assert protection_13(AES_128_GCM_SHA256, C_AP_3 + bytes(16)) is None  # a SHA-384 sized one
    assert protection_13(suite(0xC02F), C_AP_3) is not None  # an AEAD suite's key schedule works
    assert protection_13(suite(0x002F), C_AP_3) is None  # a CBC suite has no TLS 1.3 protection
    prot = protection_13(AES_128_GCM_SHA256, C_AP_3)
    assert prot is not None
    assert prot.open(23, 0x0303, 0, b"") is None
    assert prot.open(23, 0x0303, 0, b"\x00" * 15) is None
    # A record whose inner plaintext is all padding has no content type (RFC 8446 §5.4).
    assert prot.open(23, 0x0303, 5, seal_13(C_AP_3, 5, 0, b"\x00" * 10)[5:]) is None


def test_records_sealed_with_the_reference_key_schedule_open() -> None:
    # The test's own sealing, checked against the RFC's record, then used for records the RFC lacks.
    assert seal_13(C_AP_3, 0, 23, PAYLOAD) == CLIENT_APPLICATION_RECORD_3
    assert seal_13(S_AP_3, 2, 21, CLOSE_NOTIFY) == SERVER_ALERT_RECORD_3


# -- whole connections through TlsConnection ---------------------------------------------------------


def outline(events: list[TlsEvent]) -> list[tuple[object, ...]]:
    out: list[tuple[object, ...]] = []
    for e in events:
        if isinstance(e, HandshakeMessage):
            out.append((e.direction, e.name, e.encrypted))
        elif isinstance(e, ApplicationData):
            out.append((e.direction, "data", e.data, e.seq))
        elif isinstance(e, AlertEvent):
            out.append((e.alert.direction, "alert", e.alert.name, e.alert.encrypted))
        else:
            out.append((type(e).__name__,))
    return out


EXPECTED_EVENTS_3 = [
    (0, "ClientHello", False),
    (1, "ServerHello", False),
    (1, "EncryptedExtensions", True), (1, "Certificate", True), (1, "CertificateVerify", True),
    (1, "Finished", True),
    (0, "Finished", True),
    (1, "NewSessionTicket", True),
    (0, "data", PAYLOAD, 0),
    (1, "data", PAYLOAD, 1),
    (0, "alert", "close_notify", True),
    (1, "alert", "close_notify", True),
]


def test_simple_1rtt_handshake_through_a_connection() -> None:
    keys = keylog(CLIENT_HELLO_RECORD_3, **SECRETS_3)
    conn = TlsConnection(keys)
    events = feed(conn, TRACE_3)
    assert outline(events) == EXPECTED_EVENTS_3
    # Every event names the end of the record that completed it.
    ends = record_ends(TRACE_3)
    by_record = [0, 1, 2, 2, 2, 2, 3, 4, 5, 6, 7, 8]
    for event, record in zip(events, by_record, strict=True):
        direction = event.alert.direction if isinstance(event, AlertEvent) else event.direction
        assert (direction, event.end) == ends[record]
    s = conn.summary()
    assert (s.decrypted, s.reason, s.problems) == (True, None, ())
    assert s.info.version_name == "TLS 1.3"
    assert s.info.suite_name == "TLS_AES_128_GCM_SHA256"
    assert (s.info.sni, s.info.resumed, s.info.client_direction) == ("server", None, 0)
    assert s.info.client_random == CLIENT_HELLO_RECORD_3[11:43]
    assert s.info.key_source == "key log rfc8448.keys line 1"
    assert s.handshake_complete
    assert s.application_bytes == (50, 50) and s.opaque_bytes == (0, 0)
    assert s.records == (4, 5)
    assert s.client_hello is not None and s.client_hello.key_share_groups == (29,)
    assert s.server_hello is not None and s.server_hello.key_share_group == 29
    assert s.certificate is not None
    cert = s.certificate
    assert (cert.subject, cert.public_key, cert.chain_length) == ("CN=rsa", "RSA 1024", 1)
    assert [a.name for a in s.alerts] == ["close_notify", "close_notify"]
    random = CLIENT_HELLO_RECORD_3[11:43].hex()
    assert set(s.keylog_lines) == {f"{label} {random} {secret.hex()}" for label, secret in SECRETS_3.items()}


@pytest.mark.parametrize("piece", [1, 2, 7, 100])
def test_simple_1rtt_handshake_in_pieces_gives_the_same_events(piece: int) -> None:
    whole = feed(TlsConnection(keylog(CLIENT_HELLO_RECORD_3, **SECRETS_3)), TRACE_3)
    conn = TlsConnection(keylog(CLIENT_HELLO_RECORD_3, **SECRETS_3))
    assert feed(conn, TRACE_3, piece) == whole
    assert conn.summary().decrypted


def test_simple_1rtt_handshake_with_the_application_secrets_only() -> None:
    # The key log of a tool that logs only the application secrets: the encrypted handshake
    # stays unread, the application data opens under the next secret of the ladder.
    keys = keylog(CLIENT_HELLO_RECORD_3, CLIENT_TRAFFIC_SECRET_0=C_AP_3, SERVER_TRAFFIC_SECRET_0=S_AP_3)
    conn = TlsConnection(keys)
    events = feed(conn, TRACE_3)
    data = [(e.direction, e.data) for e in events if isinstance(e, ApplicationData)]
    assert data == [(0, PAYLOAD), (1, PAYLOAD)]
    assert not [e for e in events if isinstance(e, OpaqueData)]
    s = conn.summary()
    assert (s.decrypted, s.reason) == (True, None)
    lacks = "lacks CLIENT_HANDSHAKE_TRAFFIC_SECRET, SERVER_HANDSHAKE_TRAFFIC_SECRET"
    assert any(lacks in p for p in s.problems)
    assert all(p.split(": ", 1)[0] in {"error", "warning", "info"} for p in s.problems)


def test_simple_1rtt_handshake_with_the_handshake_secrets_only() -> None:
    keys = keylog(CLIENT_HELLO_RECORD_3, CLIENT_HANDSHAKE_TRAFFIC_SECRET=C_HS_3,
                  SERVER_HANDSHAKE_TRAFFIC_SECRET=S_HS_3)
    conn = TlsConnection(keys)
    events = feed(conn, TRACE_3)
    names = [e.name for e in events if isinstance(e, HandshakeMessage)]
    assert names == ["ClientHello", "ServerHello", "EncryptedExtensions", "Certificate", "CertificateVerify",
                     "Finished", "Finished"]
    # Everything after the Finished messages stays opaque: NewSessionTicket, data and alerts alike
    # look like application data from outside.
    assert [e.length for e in events if isinstance(e, OpaqueData)] == [len(r) - 5 for _, r in TRACE_3[4:]]
    s = conn.summary()
    assert not s.decrypted
    assert s.reason is not None and s.reason.code == "no-keylog-entry"
    assert s.handshake_complete


def test_simple_1rtt_handshake_without_keys_is_counted_not_dropped() -> None:
    conn = TlsConnection(KeyStore())
    events = feed(conn, TRACE_3)
    s = conn.summary()
    assert s.reason is not None and s.reason.code == "no-keylog-entry"
    assert [e.name for e in events if isinstance(e, HandshakeMessage)] == ["ClientHello", "ServerHello"]
    assert s.opaque_bytes[0] >= len(CLIENT_APPLICATION_RECORD_3) - 5
    assert s.info.client_random == CLIENT_HELLO_RECORD_3[11:43] and s.info.decrypting is False


def test_a_key_update_after_the_simple_1rtt_handshake() -> None:
    # RFC 8448 has no KeyUpdate: after §3's application data the client sends one (sealed here
    # under its application secret, sequence 1), then data under the next secret (sequence 0).
    key_update = seal_13(C_AP_3, 1, 22, b"\x18\x00\x00\x01\x00")  # KeyUpdate(update_not_requested)
    next_secret = hkdf_expand_label_reference("sha256", C_AP_3, b"traffic upd", b"", 32)
    after = seal_13(next_secret, 0, 23, b"after update")
    trace = [*TRACE_3[:7], (0, key_update), (0, after)]
    conn = TlsConnection(keylog(CLIENT_HELLO_RECORD_3, **SECRETS_3))
    events = feed(conn, trace)
    assert [(e.name, e.encrypted) for e in events if isinstance(e, HandshakeMessage) and e.direction == 0] \
        == [("ClientHello", False), ("Finished", True), ("KeyUpdate", True)]
    assert [e.data for e in events if isinstance(e, ApplicationData) and e.direction == 0] \
        == [PAYLOAD, b"after update"]
    s = conn.summary()
    assert s.key_updates == (1, 0)
    assert (s.decrypted, s.reason) == (True, None)


EXPECTED_EVENTS_4 = [
    (0, "ClientHello", False),
    (0, "data", b"ABCDEF", 0),
    (1, "ServerHello", False),
    (1, "EncryptedExtensions", True), (1, "Finished", True),
    (0, "EndOfEarlyData", True),
    (0, "Finished", True),
    (0, "data", PAYLOAD, 0),
    (1, "data", PAYLOAD, 0),
    (0, "alert", "close_notify", True),
    (1, "alert", "close_notify", True),
]


def test_resumed_0rtt_handshake_through_a_connection() -> None:
    conn = TlsConnection(keylog(CLIENT_HELLO_RECORD_4, **SECRETS_4))
    events = feed(conn, TRACE_4)
    assert outline(events) == EXPECTED_EVENTS_4
    s = conn.summary()
    assert (s.decrypted, s.reason, s.problems) == (True, None, ())
    assert s.info.resumed == "psk"
    assert s.client_hello is not None
    assert (s.client_hello.psk_identities, s.client_hello.early_data) == (1, True)
    assert s.server_hello is not None and s.server_hello.psk_selected == 0
    assert s.certificate is None  # a PSK handshake sends none
    assert s.application_bytes == (6 + 50, 50)
    assert s.handshake_complete
    assert f"CLIENT_EARLY_TRAFFIC_SECRET {CLIENT_HELLO_RECORD_4[11:43].hex()} {C_E_4.hex()}" in s.keylog_lines


@pytest.mark.parametrize("piece", [1, 13])
def test_resumed_0rtt_handshake_in_pieces_gives_the_same_events(piece: int) -> None:
    whole = feed(TlsConnection(keylog(CLIENT_HELLO_RECORD_4, **SECRETS_4)), TRACE_4)
    assert feed(TlsConnection(keylog(CLIENT_HELLO_RECORD_4, **SECRETS_4)), TRACE_4, piece) == whole


def test_resumed_0rtt_handshake_without_the_early_secret() -> None:
    secrets = {k: v for k, v in SECRETS_4.items() if k != "CLIENT_EARLY_TRAFFIC_SECRET"}
    conn = TlsConnection(keylog(CLIENT_HELLO_RECORD_4, **secrets))
    events = feed(conn, TRACE_4)
    s = conn.summary()
    # The early data stays opaque (6 bytes of it, sealed in a 23-byte record) ...
    assert [e.length for e in events if isinstance(e, OpaqueData)][:1] == [len(EARLY_DATA_RECORD_4) - 5]
    assert any("CLIENT_EARLY_TRAFFIC_SECRET" in p for p in s.problems)
    # ... but everything under the secrets the key log holds opens: the client's Finished too.
    messages = [(e.direction, e.type) for e in events if isinstance(e, HandshakeMessage)]
    assert (0, HandshakeType.FINISHED) in messages
    assert [e.data for e in events if isinstance(e, ApplicationData)] == [PAYLOAD, PAYLOAD]
    assert s.handshake_complete
    assert s.reason is not None and s.reason.code != "bad-record-mac"
