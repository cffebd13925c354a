// Package many has 300 tiny passing tests.
package many

import "testing"

func TestTiny001(t *testing.T) {}

func TestTiny002(t *testing.T) {}

func TestTiny003(t *testing.T) {}

func TestTiny004(t *testing.T) {}

func TestTiny005(t *testing.T) {}

func TestTiny006(t *testing.T) {}

func TestTiny007(t *testing.T) {}

func TestTiny008(t *testing.T) {}

func TestTiny009(t *testing.T) {}

func TestTiny010(t *testing.T) {}

func TestTiny011(t *testing.T) {}

func TestTiny012(t *testing.T) {}

func TestTiny013(t *testing.T) {}

func TestTiny014(t *testing.T) {}

func TestTiny015(t *testing.T) {}

func TestTiny016(t *testing.T) {}

func TestTiny017(t *testing.T) {}

func TestTiny018(t *testing.T) {}

func TestTiny019(t *testing.T) {}

func TestTiny020(t *testing.T) {}

func TestTiny021(t *testing.T) {}

func TestTiny022(t *testing.T) {}

func TestTiny023(t *testing.T) {}

func TestTiny024(t *testing.T) {}

func TestTiny025(t *testing.T) {}

func TestTiny026(t *testing.T) {}

func TestTiny027(t *testing.T) {}

func TestTiny028(t *testing.T) {}

func TestTiny029(t *testing.T) {}

func TestTiny030(t *testing.T) {}

func TestTiny031(t *testing.T) {}

func TestTiny032(t *testing.T) {}

func TestTiny033(t *testing.T) {}

func TestTiny034(t *testing.T) {}

func TestTiny035(t *testing.T) {}

func TestTiny036(t *testing.T) {}

func TestTiny037(t *testing.T) {}

func TestTiny038(t *testing.T) {}

func TestTiny039(t *testing.T) {}

func TestTiny040(t *testing.T) {}

func TestTiny041(t *testing.T) {}

func TestTiny042(t *testing.T) {}

func TestTiny043(t *testing.T) {}

func TestTiny044(t *testing.T) {}

func TestTiny045(t *testing.T) {}

func TestTiny046(t *testing.T) {}

func TestTiny047(t *testing.T) {}

func TestTiny048(t *testing.T) {}

func TestTiny049(t *testing.T) {}

func TestTiny050(t *testing.T) {}

func TestTiny051(t *testing.T) {}

func TestTiny052(t *testing.T) {}

func TestTiny053(t *testing.T) {}

func TestTiny054(t *testing.T) {}

func TestTiny055(t *testing.T) {}

func TestTiny056(t *testing.T) {}

func TestTiny057(t *testing.T) {}

func TestTiny058(t *testing.T) {}

func TestTiny059(t *testing.T) {}

func TestTiny060(t *testing.T) {}

func TestTiny061(t *testing.T) {}

func TestTiny062(t *testing.T) {}

func TestTiny063(t *testing.T) {}

func TestTiny064(t *testing.T) {}

func TestTiny065(t *testing.T) {}

func TestTiny066(t *testing.T) {}

func TestTiny067(t *testing.T) {}

func TestTiny068(t *testing.T) {}

func TestTiny069(t *testing.T) {}

func TestTiny070(t *testing.T) {}

func TestTiny071(t *testing.T) {}

func TestTiny072(t *testing.T) {}

func TestTiny073(t *testing.T) {}

func TestTiny074(t *testing.T) {}

func TestTiny075(t *testing.T) {}

func TestTiny076(t *testing.T) {}

func TestTiny077(t *testing.T) {}

func TestTiny078(t *testing.T) {}

func TestTiny079(t *testing.T) {}

func TestTiny080(t *testing.T) {}

func TestTiny081(t *testing.T) {}

func TestTiny082(t *testing.T) {}

func TestTiny083(t *testing.T) {}

func TestTiny084(t *testing.T) {}

func TestTiny085(t *testing.T) {}

func TestTiny086(t *testing.T) {}

func TestTiny087(t *testing.T) {}

func TestTiny088(t *testing.T) {}

func TestTiny089(t *testing.T) {}

func TestTiny090(t *testing.T) {}

func TestTiny091(t *testing.T) {}

func TestTiny092(t *testing.T) {}

func TestTiny093(t *testing.T) {}

func TestTiny094(t *testing.T) {}

func TestTiny095(t *testing.T) {}

func TestTiny096(t *testing.T) {}

func TestTiny097(t *testing.T) {}

func TestTiny098(t *testing.T) {}

func TestTiny099(t *testing.T) {}

func TestTiny100(t *testing.T) {}

func TestTiny101(t *testing.T) {}

func TestTiny102(t *testing.T) {}

func TestTiny103(t *testing.T) {}

func TestTiny104(t *testing.T) {}

func TestTiny105(t *testing.T) {}

func TestTiny106(t *testing.T) {}

func TestTiny107(t *testing.T) {}

func TestTiny108(t *testing.T) {}

func TestTiny109(t *testing.T) {}

func TestTiny110(t *testing.T) {}

func TestTiny111(t *testing.T) {}

func TestTiny112(t *testing.T) {}

func TestTiny113(t *testing.T) {}

func TestTiny114(t *testing.T) {}

func TestTiny115(t *testing.T) {}

func TestTiny116(t *testing.T) {}

func TestTiny117(t *testing.T) {}

func TestTiny118(t *testing.T) {}

func TestTiny119(t *testing.T) {}

func TestTiny120(t *testing.T) {}

func TestTiny121(t *testing.T) {}

func TestTiny122(t *testing.T) {}

func TestTiny123(t *testing.T) {}

func TestTiny124(t *testing.T) {}

func TestTiny125(t *testing.T) {}

func TestTiny126(t *testing.T) {}

func TestTiny127(t *testing.T) {}

func TestTiny128(t *testing.T) {}

func TestTiny129(t *testing.T) {}

func TestTiny130(t *testing.T) {}

func TestTiny131(t *testing.T) {}

func TestTiny132(t *testing.T) {}

func TestTiny133(t *testing.T) {}

func TestTiny134(t *testing.T) {}

func TestTiny135(t *testing.T) {}

func TestTiny136(t *testing.T) {}

func TestTiny137(t *testing.T) {}

func TestTiny138(t *testing.T) {}

func TestTiny139(t *testing.T) {}

func TestTiny140(t *testing.T) {}

func TestTiny141(t *testing.T) {}

func TestTiny142(t *testing.T) {}

func TestTiny143(t *testing.T) {}

func TestTiny144(t *testing.T) {}

func TestTiny145(t *testing.T) {}

func TestTiny146(t *testing.T) {}

func TestTiny147(t *testing.T) {}

func TestTiny148(t *testing.T) {}

func TestTiny149(t *testing.T) {}

func TestTiny150(t *testing.T) {}

func TestTiny151(t *testing.T) {}

func TestTiny152(t *testing.T) {}

func TestTiny153(t *testing.T) {}

func TestTiny154(t *testing.T) {}

func TestTiny155(t *testing.T) {}

func TestTiny156(t *testing.T) {}

func TestTiny157(t *testing.T) {}

func TestTiny158(t *testing.T) {}

func TestTiny159(t *testing.T) {}

func TestTiny160(t *testing.T) {}

func TestTiny161(t *testing.T) {}

func TestTiny162(t *testing.T) {}

func TestTiny163(t *testing.T) {}

func TestTiny164(t *testing.T) {}

func TestTiny165(t *testing.T) {}

func TestTiny166(t *testing.T) {}

func TestTiny167(t *testing.T) {}

func TestTiny168(t *testing.T) {}

func TestTiny169(t *testing.T) {}

func TestTiny170(t *testing.T) {}

func TestTiny171(t *testing.T) {}

func TestTiny172(t *testing.T) {}

func TestTiny173(t *testing.T) {}

func TestTiny174(t *testing.T) {}

func TestTiny175(t *testing.T) {}

func TestTiny176(t *testing.T) {}

func TestTiny177(t *testing.T) {}

func TestTiny178(t *testing.T) {}

func TestTiny179(t *testing.T) {}

func TestTiny180(t *testing.T) {}

func TestTiny181(t *testing.T) {}

func TestTiny182(t *testing.T) {}

func TestTiny183(t *testing.T) {}

func TestTiny184(t *testing.T) {}

func TestTiny185(t *testing.T) {}

func TestTiny186(t *testing.T) {}

func TestTiny187(t *testing.T) {}

func TestTiny188(t *testing.T) {}

func TestTiny189(t *testing.T) {}

func TestTiny190(t *testing.T) {}

func TestTiny191(t *testing.T) {}

func TestTiny192(t *testing.T) {}

func TestTiny193(t *testing.T) {}

func TestTiny194(t *testing.T) {}

func TestTiny195(t *testing.T) {}

func TestTiny196(t *testing.T) {}

func TestTiny197(t *testing.T) {}

func TestTiny198(t *testing.T) {}

func TestTiny199(t *testing.T) {}

func TestTiny200(t *testing.T) {}

func TestTiny201(t *testing.T) {}

func TestTiny202(t *testing.T) {}

func TestTiny203(t *testing.T) {}

func TestTiny204(t *testing.T) {}

func TestTiny205(t *testing.T) {}

func TestTiny206(t *testing.T) {}

func TestTiny207(t *testing.T) {}

func TestTiny208(t *testing.T) {}

func TestTiny209(t *testing.T) {}

func TestTiny210(t *testing.T) {}

func TestTiny211(t *testing.T) {}

func TestTiny212(t *testing.T) {}

func TestTiny213(t *testing.T) {}

func TestTiny214(t *testing.T) {}

func TestTiny215(t *testing.T) {}

func TestTiny216(t *testing.T) {}

func TestTiny217(t *testing.T) {}

func TestTiny218(t *testing.T) {}

func TestTiny219(t *testing.T) {}

func TestTiny220(t *testing.T) {}

func TestTiny221(t *testing.T) {}

func TestTiny222(t *testing.T) {}

func TestTiny223(t *testing.T) {}

func TestTiny224(t *testing.T) {}

func TestTiny225(t *testing.T) {}

func TestTiny226(t *testing.T) {}

func TestTiny227(t *testing.T) {}

func TestTiny228(t *testing.T) {}

func TestTiny229(t *testing.T) {}

func TestTiny230(t *testing.T) {}

func TestTiny231(t *testing.T) {}

func TestTiny232(t *testing.T) {}

func TestTiny233(t *testing.T) {}

func TestTiny234(t *testing.T) {}

func TestTiny235(t *testing.T) {}

func TestTiny236(t *testing.T) {}

func TestTiny237(t *testing.T) {}

func TestTiny238(t *testing.T) {}

func TestTiny239(t *testing.T) {}

func TestTiny240(t *testing.T) {}

func TestTiny241(t *testing.T) {}

func TestTiny242(t *testing.T) {}

func TestTiny243(t *testing.T) {}

func TestTiny244(t *testing.T) {}

func TestTiny245(t *testing.T) {}

func TestTiny246(t *testing.T) {}

func TestTiny247(t *testing.T) {}

func TestTiny248(t *testing.T) {}

func TestTiny249(t *testing.T) {}

func TestTiny250(t *testing.T) {}

func TestTiny251(t *testing.T) {}

func TestTiny252(t *testing.T) {}

func TestTiny253(t *testing.T) {}

func TestTiny254(t *testing.T) {}

func TestTiny255(t *testing.T) {}

func TestTiny256(t *testing.T) {}

func TestTiny257(t *testing.T) {}

func TestTiny258(t *testing.T) {}

func TestTiny259(t *testing.T) {}

func TestTiny260(t *testing.T) {}

func TestTiny261(t *testing.T) {}

func TestTiny262(t *testing.T) {}

func TestTiny263(t *testing.T) {}

func TestTiny264(t *testing.T) {}

func TestTiny265(t *testing.T) {}

func TestTiny266(t *testing.T) {}

func TestTiny267(t *testing.T) {}

func TestTiny268(t *testing.T) {}

func TestTiny269(t *testing.T) {}

func TestTiny270(t *testing.T) {}

func TestTiny271(t *testing.T) {}

func TestTiny272(t *testing.T) {}

func TestTiny273(t *testing.T) {}

func TestTiny274(t *testing.T) {}

func TestTiny275(t *testing.T) {}

func TestTiny276(t *testing.T) {}

func TestTiny277(t *testing.T) {}

func TestTiny278(t *testing.T) {}

func TestTiny279(t *testing.T) {}

func TestTiny280(t *testing.T) {}

func TestTiny281(t *testing.T) {}

func TestTiny282(t *testing.T) {}

func TestTiny283(t *testing.T) {}

func TestTiny284(t *testing.T) {}

func TestTiny285(t *testing.T) {}

func TestTiny286(t *testing.T) {}

func TestTiny287(t *testing.T) {}

func TestTiny288(t *testing.T) {}

func TestTiny289(t *testing.T) {}

func TestTiny290(t *testing.T) {}

func TestTiny291(t *testing.T) {}

func TestTiny292(t *testing.T) {}

func TestTiny293(t *testing.T) {}

func TestTiny294(t *testing.T) {}

func TestTiny295(t *testing.T) {}

func TestTiny296(t *testing.T) {}

func TestTiny297(t *testing.T) {}

func TestTiny298(t *testing.T) {}

func TestTiny299(t *testing.T) {}

func TestTiny300(t *testing.T) {}
